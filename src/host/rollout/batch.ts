// One batch's reboots: request each node's reboot through its agent (guest-shutdown mode=reboot,
// the agent drains first), then watch the API until each is back, Ready and uncordoned, with one
// node list per poll for the whole batch. A failure of one node lets the others of the batch reach
// their own end (they are already rebooting; abandoning them helps no one), then stops the rollout.
// A Node outside the batch that reboots or starts a drain meanwhile stops it at once: the VM asked
// may not be the Node it claimed to be.

import type { AgentConnection } from '../connection.js';
import { QgaRemoteError } from '../errors.js';
import { phaseOf, type RunOptions } from './context.js';
import { RolloutError } from './errors.js';
import { printable } from './names.js';
import { NodeWatch } from './node-watch.js';
import type { NodeState } from './state.js';
import type { NodeView } from './views.js';

/** Between two looks at a rebooting node (ms): a cordon lasts at least the drain and the boot, many seconds. */
export const DEFAULT_POLL_MS = 1000;
/** Every this many polls, all Nodes are listed (to see a node outside the batch going down). */
const STRANGER_EVERY = 5;

/** Asks the agent to reboot; the answer (if any) is fed to the watch. Returns the connection to close later. */
function requestReboot(o: RunOptions, n: NodeState, watch: NodeWatch): AgentConnection {
  const conn = o.connector.connect(n.vm);
  // guest-shutdown has no reply on success; the agent holds the request while it drains, and an
  // error reply (drain aborted, power back end failed) may come only then: wait as long as the node may take.
  conn.call('guest-shutdown', { mode: 'reboot' }, { timeoutMs: o.nodeTimeoutMs }).then(
    () => {},
    (err: Error) => {
      if (err instanceof QgaRemoteError) watch.refused(err.desc);
      else watch.undelivered(err.message, Date.now());
    },
  );
  return conn;
}

/** Whether the API shows no trace of an earlier reboot request (so asking again cannot reboot it twice). */
export function notRebooted(n: NodeState, v: NodeView): boolean {
  return v.bootId === n.bootIdBefore && !v.lifecycle && (!v.unschedulable || n.cordonedBefore === true);
}

/** Something happening to a Node outside the batch, or undefined. */
function stranger(
  list: readonly NodeView[],
  mine: ReadonlySet<string>,
  before: ReadonlyMap<string, string | undefined>,
): string | undefined {
  for (const v of list) {
    if (mine.has(v.name) || !before.has(v.name)) continue;
    const was = before.get(v.name);
    const what =
      was && v.bootId && v.bootId !== was
        ? 'rebooted'
        : v.lifecycle && v.lifecycle.bootId === v.bootId
          ? 'started a drain for a power action'
          : undefined;
    if (what)
      return `Node ${printable(v.name)}, which is not being rebooted, ${what} meanwhile: the VM asked to reboot may not be the Node it claimed to be (a guest lying about its host name?), or someone else is rebooting nodes. Stopping; nothing more is started`;
  }
  return undefined;
}

/**
 * Reboots the batch's nodes that need it and waits for all of them. `toRequest` are asked now;
 * `toWatch` were asked by an earlier run (their requestedAt restarts now). Resolves when all are
 * back; throws ROLLOUT_NODE (first failure) or ROLLOUT_INTERRUPTED (second Ctrl-C).
 */
export async function rebootBatch(o: RunOptions, toRequest: NodeState[], toWatch: NodeState[], list: NodeView[]): Promise<void> {
  const all = [...toRequest, ...toWatch];
  const mine = new Set(all.map((n) => n.node));
  const before = new Map(list.filter((v) => !mine.has(v.name)).map((v) => [v.name, v.bootId]));
  const watches = new Map<NodeState, NodeWatch>();
  const conns: AgentConnection[] = [];
  const now = Date.now();
  for (const n of all) {
    const view = list.find((v) => v.name === n.node);
    if (toRequest.includes(n)) {
      if (!view) throw new RolloutError('ROLLOUT_NODE', `Node ${printable(n.node)} no longer exists; nothing was rebooted`);
      if (!view.bootId)
        throw new RolloutError(
          'ROLLOUT_NODE',
          `Node ${printable(n.node)} reports no status.nodeInfo.bootID, so its reboot could not be seen; nothing was rebooted`,
        );
      n.bootIdBefore = view.bootId;
      n.cordonedBefore = view.unschedulable;
      n.requestedAt = new Date(now).toISOString();
      n.status = 'rebooting';
      delete n.error;
    }
    watches.set(
      n,
      new NodeWatch({
        node: n.node,
        bootIdBefore: n.bootIdBefore as string,
        cordonedBefore: n.cordonedBefore === true,
        requestedAt: now,
        nodeTimeoutMs: o.nodeTimeoutMs,
      }),
    );
  }
  // Recorded before anything is sent: a crash from here on resumes by watching, not by asking again.
  o.store.save();
  for (const n of toRequest) {
    phaseOf(o, n, 'requested', now);
    conns.push(requestReboot(o, n, watches.get(n) as NodeWatch));
  }
  let failure: RolloutError | undefined;
  let round = 0;
  try {
    while (watches.size > 0) {
      if (o.interrupt.now)
        throw new RolloutError(
          'ROLLOUT_INTERRUPTED',
          `stopped at once while ${[...watches.keys()].map((n) => printable(n.node)).join(', ')} ${watches.size > 1 ? 'were' : 'was'} rebooting; left as they are`,
        );
      // Each watched Node every poll (cheap), the whole list every STRANGER_EVERY polls (for the
      // check on the others).
      let apiError: string | undefined;
      const views = new Map<NodeState, NodeView | undefined>();
      try {
        if (round++ % STRANGER_EVERY === 0) {
          const list = await o.cluster.nodes();
          const odd = stranger(list, mine, before);
          if (odd) throw new RolloutError('ROLLOUT_NODE', odd);
          for (const n of watches.keys())
            views.set(
              n,
              list.find((v) => v.name === n.node),
            );
        } else {
          const got = await Promise.all([...watches.keys()].map((n) => o.cluster.node(n.node)));
          for (const [i, n] of [...watches.keys()].entries()) views.set(n, got[i]);
        }
      } catch (err) {
        if (err instanceof RolloutError && err.code === 'ROLLOUT_NODE') throw err;
        apiError = (err as Error).message;
      }
      const t = Date.now();
      for (const [n, w] of watches) {
        if (apiError) w.blind();
        const r = apiError ? w.timeoutCheck(t, apiError) : w.observe(views.get(n), t);
        const since = Date.parse(n.requestedAt ?? '') || t;
        if (r.kind === 'continue') {
          phaseOf(o, n, w.phase, since, w.detail);
          continue;
        }
        watches.delete(n);
        if (r.kind === 'done') {
          phaseOf(o, n, 'uncordoned', since, w.warning);
          n.status = 'rebooted';
          n.bootIdAfter = r.bootIdAfter;
          n.ms = t - since;
          if (w.warning) n.error = `warning: ${w.warning}`;
        } else {
          phaseOf(o, n, 'failed', since, r.message);
          n.status = 'failed';
          n.error = r.message;
          failure ??= new RolloutError('ROLLOUT_NODE', r.message, n.node, w.failedIn);
        }
        o.store.save();
      }
      if (watches.size > 0) await o.interrupt.sleep(o.pollMs ?? DEFAULT_POLL_MS);
    }
  } finally {
    for (const c of conns) c.close();
  }
  if (failure) throw failure;
}
