// The rollout, batch after batch: pre-gate, reboots (batch.ts), post-gate, each node recorded in
// the state file as it goes. Stops at the first failure and leaves everything as it is; Ctrl-C
// stops at the next safe point (the second one at once). Returns the final state; the CLI turns
// its result into the exit code and prints the resume command.
import os from 'node:os';
import { formatDuration } from '../../kube/duration.js';
import { DEFAULT_POLL_MS, notRebooted, rebootBatch } from './batch.js';
import type { ClusterSnapshot } from './cluster.js';
import { phaseOf, type RunOptions } from './context.js';
import { RolloutError } from './errors.js';
import type { NodeSummary } from './events.js';
import { type GateResult, gateSummary, postGate, preGate } from './gates.js';
import { printable } from './names.js';
import type { Target } from './plan.js';
import type { NodeState, RolloutState } from './state.js';

export type { RunOptions } from './context.js';

/** The state's nodes grouped by batch, in order. */
export function batchesOf(s: RolloutState): NodeState[][] {
  const out: NodeState[][] = [];
  for (const n of s.nodes) (out[n.batch] ??= []).push(n);
  return out.filter(Boolean);
}

/** Each node's summary, for the end event, the table and `rollout status`. */
export function summaries(s: RolloutState): NodeSummary[] {
  return s.nodes.map((n) => ({
    node: n.node,
    vm: n.vm,
    controlPlane: n.controlPlane,
    batch: n.batch,
    status: n.status,
    ...(n.phase ? { phase: n.phase } : {}),
    ...(n.bootIdBefore ? { bootIdBefore: n.bootIdBefore } : {}),
    ...(n.bootIdAfter ? { bootIdAfter: n.bootIdAfter } : {}),
    ...(n.ms !== undefined ? { ms: n.ms } : {}),
    ...(n.error ? { error: n.error } : {}),
  }));
}

const asTarget = (n: NodeState): Target => ({ vm: n.vm, node: n.node, controlPlane: n.controlPlane, matchedBy: n.matchedBy });

function interrupted(why: string): RolloutError {
  return new RolloutError('ROLLOUT_INTERRUPTED', `interrupted ${why}`);
}

/**
 * Polls `judge` over fresh snapshots until it passes. `once`: decide on the first look (the
 * rollout's very first gate fails fast: the user is watching). Otherwise up to --settle-timeout.
 * A first Ctrl-C stops a pre-gate (nothing is in flight); a post-gate stops only on the second.
 */
async function gate(
  o: RunOptions,
  kind: 'pre' | 'post',
  batch: number,
  judge: (s: ClusterSnapshot) => GateResult,
  once: boolean,
): Promise<ClusterSnapshot> {
  const deadline = Date.now() + o.settleTimeoutMs;
  let last = '';
  for (;;) {
    let snap: ClusterSnapshot | undefined;
    let result: GateResult;
    try {
      snap = await o.cluster.snapshot();
      result = judge(snap);
    } catch (err) {
      result = { ok: false, checks: [{ name: 'api', ok: false, detail: printable((err as Error).message, 500) }] };
    }
    const waiting = !result.ok && !once && Date.now() < deadline;
    const seen = `${result.ok}:${gateSummary(result)}`;
    if (seen !== last || result.ok) o.emit({ event: 'gate', gate: kind, batch, ok: result.ok, waiting, checks: result.checks });
    last = seen;
    if (result.ok && snap) return snap;
    if (!waiting) {
      const what =
        kind === 'pre'
          ? `the cluster is not healthy enough to reboot batch ${batch + 1}`
          : `the cluster did not settle within --settle-timeout ${formatDuration(o.settleTimeoutMs)} after batch ${batch + 1}`;
      throw new RolloutError('ROLLOUT_GATE', `${kind}-gate: ${what}: ${gateSummary(result)}`);
    }
    if (kind === 'pre' ? o.interrupt.level > 0 : o.interrupt.now)
      throw interrupted(`while waiting for the ${kind}-gate of batch ${batch + 1}`);
    await o.interrupt.sleep(o.pollMs ?? 2 * DEFAULT_POLL_MS);
    if (kind === 'pre' ? o.interrupt.level > 0 : o.interrupt.now)
      throw interrupted(`while waiting for the ${kind}-gate of batch ${batch + 1}`);
  }
}

async function runBatch(o: RunOptions, index: number, nodes: NodeState[], firstGate: boolean): Promise<boolean> {
  const open = nodes.filter((n) => n.status !== 'done');
  if (open.length === 0) return false;
  if (o.interrupt.level > 0) throw interrupted(`before batch ${index + 1}`);
  const baseline = o.store.state.baseline;
  // A node an earlier run left failed is asked again only if the API shows it did not reboot;
  // otherwise it is watched to its end. Either way it is never rebooted twice.
  const list = await o.cluster.nodes();
  for (const n of open.filter((x) => x.status === 'failed')) {
    const v = list.find((x) => x.name === n.node);
    n.status = !n.bootIdBefore || (v && notRebooted(n, v)) ? 'pending' : 'rebooting';
  }
  const toRequest = open.filter((n) => n.status === 'pending');
  const toWatch = open.filter((n) => n.status === 'rebooting');
  // rebooting nodes whose request evidently never arrived are asked again (not a second reboot).
  for (const n of [...toWatch]) {
    const v = list.find((x) => x.name === n.node);
    if (v && notRebooted(n, v)) {
      toWatch.splice(toWatch.indexOf(n), 1);
      toRequest.push(n);
    }
  }
  let snapshotList = list;
  if (toRequest.length > 0) {
    const inFlight = new Set(toWatch.map((n) => n.node));
    for (const n of toRequest) phaseOf(o, n, 'pre-gate', Date.now());
    const snap = await gate(
      o,
      'pre',
      index,
      (s) => preGate(s, toRequest.map(asTarget), { ignoreCordoned: o.ignoreCordoned, inFlight }),
      firstGate,
    );
    snapshotList = snap.nodes;
  }
  if (toRequest.length + toWatch.length > 0) await rebootBatch(o, toRequest, toWatch, snapshotList);
  const settleFrom = Date.now();
  for (const n of open) phaseOf(o, n, 'settling', settleFrom);
  o.store.save();
  await gate(o, 'post', index, (s) => postGate(s, baseline), false);
  const t = new Date();
  for (const n of open) {
    n.status = 'done';
    n.finishedAt = t.toISOString();
    phaseOf(o, n, 'done', settleFrom);
    o.emit({
      event: 'node-done',
      node: n.node,
      vm: n.vm,
      bootIdBefore: n.bootIdBefore ?? '',
      bootIdAfter: n.bootIdAfter ?? '',
      ms: n.ms ?? 0,
    });
  }
  o.store.save();
  return true;
}

/** Runs (or resumes) the rollout recorded in o.store; never throws for a rollout failure. */
export async function runRollout(o: RunOptions): Promise<RolloutState> {
  const s = o.store.state;
  s.result = 'running';
  s.pid = process.pid;
  s.host = os.hostname();
  delete s.failure;
  o.store.save();
  let firstGate = true;
  let result: 'done' | 'failed' | 'interrupted' = 'done';
  try {
    for (const [i, nodes] of batchesOf(s).entries()) if (await runBatch(o, i, nodes, firstGate)) firstGate = false;
  } catch (err) {
    // An error that is not the rollout's own (the API failing between two gates): a failed gate, resumable.
    const e = err instanceof RolloutError ? err : new RolloutError('ROLLOUT_GATE', `cannot read the cluster: ${(err as Error).message}`);
    result = e.code === 'ROLLOUT_INTERRUPTED' ? 'interrupted' : 'failed';
    s.failure = { code: e.code, message: e.message, ...(e.node ? { node: e.node } : {}), ...(e.phase ? { phase: e.phase } : {}) };
  }
  s.result = result;
  o.store.save();
  o.emit({
    event: 'end',
    result,
    ...(s.failure ? { code: s.failure.code, message: s.failure.message } : {}),
    ...(s.failure?.node ? { node: s.failure.node } : {}),
    ...(result !== 'done' ? { resume: o.resumeCommand } : {}),
    state: o.store.file,
    nodes: summaries(s),
  });
  return s;
}
