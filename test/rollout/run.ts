// Runs a rollout in this process against a SimCluster (prepare + run, as the CLI does), with a
// fast poll, collecting its events; the CLI itself is tested in cli.test.ts.
import path from 'node:path';
import { Connector } from '../../src/host/connectors/index.js';
import { connectCluster } from '../../src/host/rollout/connect.js';
import type { RolloutEvent } from '../../src/host/rollout/events.js';
import { Interrupt } from '../../src/host/rollout/interrupt.js';
import type { Order } from '../../src/host/rollout/plan.js';
import { type Prepared, prepareRollout } from '../../src/host/rollout/prepare.js';
import { runRollout } from '../../src/host/rollout/runner.js';
import type { RolloutState } from '../../src/host/rollout/state.js';
import type { SimCluster } from './sim.js';

export interface RunOpts {
  targets?: string[];
  order?: Order;
  maxUnavailable?: number;
  nodeMap?: Map<string, string>;
  resume?: boolean;
  nodeTimeoutMs?: number;
  settleTimeoutMs?: number;
  ignoreCordoned?: boolean;
  interrupt?: Interrupt;
  state?: string;
  kubeconfig?: string;
  onEvent?: (ev: RolloutEvent) => void;
}

export interface RunResult {
  state: RolloutState;
  events: RolloutEvent[];
  prepared: Prepared;
}

/** Prepares and runs; throws what prepare throws (matching, state), returns the final state otherwise. */
export async function rollout(sim: SimCluster, o: RunOpts = {}): Promise<RunResult> {
  const { cluster, context } = await connectCluster(o.kubeconfig ?? sim.kubeconfig, {}, false);
  const connector = new Connector();
  const events: RolloutEvent[] = [];
  try {
    const prepared = await prepareRollout({
      targets: o.targets ?? sim.vms.map((v) => v.address),
      connector,
      cluster,
      context,
      nodeMap: o.nodeMap ?? new Map(),
      order: o.order ?? 'workers-first',
      maxUnavailable: o.maxUnavailable ?? 1,
      statePath: o.state ?? path.join(sim.dir, 'state.json'),
      resume: o.resume ?? false,
      agentTimeoutMs: 3000,
      concurrency: 4,
    });
    const state = await runRollout({
      cluster,
      connector,
      store: prepared.store,
      ignoreCordoned: o.ignoreCordoned ?? false,
      nodeTimeoutMs: o.nodeTimeoutMs ?? 10_000,
      settleTimeoutMs: o.settleTimeoutMs ?? 5_000,
      pollMs: 25,
      interrupt: o.interrupt ?? new Interrupt(),
      emit: (ev) => {
        events.push(ev);
        o.onEvent?.(ev);
      },
      resumeCommand: 'guestlink rollout reboot ... --resume',
    });
    return { state, events, prepared };
  } finally {
    connector.close();
    cluster.close();
  }
}

/** The nodes in the order their phase first reached `phase`. */
export function orderOf(events: readonly RolloutEvent[], phase: string): string[] {
  const out: string[] = [];
  for (const e of events) if (e.event === 'phase' && e.phase === phase && !out.includes(e.node)) out.push(e.node);
  return out;
}
