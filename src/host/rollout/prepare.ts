// Everything before the first reboot: the state file (a new rollout, or the one to resume), the
// VMs (patterns expanded, each agent asked who it is), the match to Nodes, the plan, and the
// baseline of what was unhealthy already. Nothing here changes anything anywhere; --dry-run stops
// after it. A resumed rollout takes its plan from the state file, so a VM that is down (and so
// missing from `virsh list`) or a changed label cannot reorder or re-match what was started.
import { randomUUID } from 'node:crypto';
import os from 'node:os';
import { KubeError } from '../../kube/errors.js';
import type { Connector } from '../connectors/index.js';
import type { Cluster, ClusterSnapshot } from './cluster.js';
import { RolloutError } from './errors.js';
import { baselineOf } from './gates.js';
import { identifyGuests, matchTargets } from './match.js';
import { printable } from './names.js';
import { makePlan, type Order, type Plan, type Target } from './plan.js';
import { ownerAlive, type RolloutState, readState, StateStore } from './state.js';

/** What the CLI gives the preparation. */
export interface PrepareInput {
  /** The targets as the user gave them (patterns included). */
  targets: string[];
  connector: Connector;
  cluster: Cluster;
  context: string;
  nodeMap: ReadonlyMap<string, string>;
  order: Order;
  maxUnavailable: number;
  statePath: string;
  resume: boolean;
  /** Per agent request while identifying the VMs. */
  agentTimeoutMs: number;
  /** VMs asked at once while identifying them. */
  concurrency: number;
}

/** A rollout ready to run (or to show, with --dry-run). */
export interface Prepared {
  store: StateStore;
  plan: Plan;
  resumed: boolean;
  /** The snapshot the plan was made from (new rollouts; --dry-run shows its pre-gate). */
  snapshot?: ClusterSnapshot;
}

function apiError(err: unknown): unknown {
  return err instanceof KubeError ? new RolloutError('ROLLOUT_API', `${err.message}; nothing was started`) : err;
}

/** The plan as recorded in a state file. */
export function planOf(s: RolloutState): Plan {
  const batches: Target[][] = [];
  for (const n of s.nodes) (batches[n.batch] ??= []).push({ vm: n.vm, node: n.node, controlPlane: n.controlPlane, matchedBy: n.matchedBy });
  return { order: s.order as Order, maxUnavailable: s.maxUnavailable, batches: batches.filter(Boolean), warnings: [] };
}

function progress(s: RolloutState): string {
  return `${s.nodes.filter((n) => n.status === 'done').length} of ${s.nodes.length} nodes done, ${s.result}`;
}

/** Everything before the first reboot; changes nothing anywhere (the state is written by the runner). */
export async function prepareRollout(i: PrepareInput): Promise<Prepared> {
  const existing = readState(i.statePath);
  const file = printable(i.statePath);
  if (existing && ownerAlive(existing))
    throw new RolloutError(
      'ROLLOUT_STATE',
      `another rollout (pid ${existing.pid}) is running with the state file ${file}; wait for it or stop it`,
    );
  if (i.resume) {
    if (!existing) throw new RolloutError('ROLLOUT_STATE', `nothing to resume: ${file} does not exist (start without --resume)`);
    if (existing.server !== i.cluster.server)
      throw new RolloutError(
        'ROLLOUT_STATE',
        `${file} is a rollout of ${printable(existing.server)}, but the kubeconfig points at ${printable(i.cluster.server)}; use the same kubeconfig, or another --state`,
      );
    const same = existing.targets.length === i.targets.length && existing.targets.every((t, k) => t === i.targets[k]);
    if (i.targets.length > 0 && !same)
      throw new RolloutError(
        'ROLLOUT_STATE',
        `the targets differ from the recorded rollout's (${printable(existing.targets.join(' '))}); give the same ones (or none) with --resume`,
      );
    return { store: new StateStore(i.statePath, existing), plan: planOf(existing), resumed: true };
  }
  if (existing && existing.result !== 'done')
    throw new RolloutError(
      'ROLLOUT_STATE',
      `an unfinished rollout is recorded in ${file} (${progress(existing)}): continue it with --resume, or remove the file to start over`,
    );
  if (i.targets.length === 0)
    throw new RolloutError('ROLLOUT_USAGE', 'rollout reboot needs the VMs to reboot (libvirt:GLOB, pve://NODE/*, unix:PATH ...)');
  const vms = await i.connector.expand(i.targets);
  if (vms.length === 0) throw new RolloutError('ROLLOUT_USAGE', `no running VM matches ${printable(i.targets.join(' '))}`);
  let snapshot: ClusterSnapshot;
  try {
    snapshot = await i.cluster.snapshot();
  } catch (err) {
    throw apiError(err);
  }
  const guests = await identifyGuests(i.connector, vms, { timeoutMs: i.agentTimeoutMs, concurrency: i.concurrency });
  const targets = matchTargets(guests, snapshot.nodes, i.nodeMap);
  const plan = makePlan(targets, snapshot.nodes, { order: i.order, maxUnavailable: i.maxUnavailable });
  for (const g of guests)
    if (!g.error && g.addresses === undefined && !i.nodeMap.has(g.vm) && !i.nodeMap.has(g.vmName))
      plan.warnings.push(
        `${printable(g.vm)}: its agent would not list its addresses, so its host name could not be checked against the Node's`,
      );
  const now = new Date().toISOString();
  const state: RolloutState = {
    version: 1,
    id: randomUUID(),
    server: i.cluster.server,
    context: i.context,
    created: now,
    updated: now,
    targets: [...i.targets],
    order: i.order,
    maxUnavailable: i.maxUnavailable,
    result: 'running',
    pid: process.pid,
    host: os.hostname(),
    baseline: baselineOf(snapshot),
    nodes: plan.batches.flatMap((b, batch) =>
      b.map((t) => ({ node: t.node, vm: t.vm, controlPlane: t.controlPlane, batch, matchedBy: t.matchedBy, status: 'pending' as const })),
    ),
  };
  return { store: new StateStore(i.statePath, state), plan, resumed: false, snapshot };
}
