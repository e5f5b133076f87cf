// The rollout's tables: the plan (--dry-run and before a run), the summary at the end, and the
// status of a recorded rollout. All names escaped.
import { type Check, formatDuration, type NodeSummary, type Plan, printable, type RolloutState } from '../../host/rollout/index.js';
import { table } from '../output.js';

/** The plan as a table (with each node's status when resuming). */
export function planTable(plan: Plan, status?: ReadonlyMap<string, string>): string {
  const rows = plan.batches.flatMap((b, i) =>
    b.map((t) => [
      String(i + 1),
      printable(t.node),
      printable(t.vm),
      t.controlPlane ? 'control-plane' : 'worker',
      t.matchedBy,
      ...(status ? [status.get(t.node) ?? 'pending'] : []),
    ]),
  );
  return table(['BATCH', 'NODE', 'VM', 'ROLE', 'MATCHED BY', ...(status ? ['STATUS'] : [])], rows);
}

/** What the gates check, for the dry run. */
export function gatesText(): string {
  return `Gates:
  before each batch: API /readyz ok; every Node Ready; no Node cordoned by someone else; no guestlink drain under way;
                     control-plane node: every other control-plane node Ready (etcd quorum)
  each node:         reboot through its agent (it drains first); new boot id; Ready; uncordoned by its agent (--node-timeout)
  after each batch:  every Node Ready; Deployments/StatefulSets/DaemonSets ready = desired; PodDisruptionBudgets met (--settle-timeout)
`;
}

/** A gate's checks, one line each. */
export function checksText(checks: readonly Check[]): string {
  return checks.map((c) => `  ${c.ok ? 'ok  ' : 'FAIL'}  ${c.name}: ${printable(c.detail, 600)}\n`).join('');
}

/** The summary at the end of a run. */
export function summaryTable(nodes: readonly NodeSummary[]): string {
  return table(
    ['NODE', 'VM', 'ROLE', 'STATUS', 'TIME', 'BOOT ID (BEFORE -> AFTER)'],
    nodes.map((n) => [
      printable(n.node),
      printable(n.vm),
      n.controlPlane ? 'control-plane' : 'worker',
      n.status === 'failed' || n.status === 'done' || n.status === 'pending' ? n.status : `${n.status} (${n.phase ?? ''})`,
      n.ms !== undefined ? formatDuration(n.ms) : '',
      n.bootIdBefore
        ? `${printable(n.bootIdBefore, 36).slice(0, 8)} -> ${n.bootIdAfter ? printable(n.bootIdAfter, 36).slice(0, 8) : '?'}`
        : '',
    ]),
  );
}

/** A recorded rollout, for `rollout status`. */
export function statusText(file: string, s: RolloutState, nodes: readonly NodeSummary[]): string {
  const done = s.nodes.filter((n) => n.status === 'done').length;
  return `rollout ${s.id} of ${printable(s.server)} (context ${printable(s.context)})
state file: ${printable(file)}
result: ${s.result}${s.result === 'running' ? ` (pid ${s.pid} on ${printable(s.host)})` : ''}; ${done} of ${s.nodes.length} nodes done; started ${s.created}, last change ${s.updated}
${s.failure ? `stopped: ${printable(s.failure.message, 2000)}\n` : ''}
${summaryTable(nodes)}`;
}
