// `guestlink rollout reboot VM... --kubeconfig K`: match, plan, and (unless --dry-run) run the
// rolling reboot, showing progress (board.ts) or the JSON event stream, then the summary, and on
// a stop what happened and the exact command to resume. Loaded only when the verb is used.
import { Connector } from '../../host/connectors/index.js';
import {
  connectCluster,
  defaultStatePath,
  Interrupt,
  type Prepared,
  preGate,
  prepareRollout,
  printable,
  type RolloutEvent,
  runRollout,
  summaries,
} from '../../host/rollout/index.js';
import { UsageError } from '../args.js';
import { renderData } from '../output.js';
import type { VerbContext } from '../verbs/types.js';
import { Board } from './board.js';
import { type RolloutArgs, resumeCommand, rolloutArgs } from './command-line.js';
import { ROLLOUT_EXIT, rolloutExit } from './exit.js';
import { checksText, gatesText, planTable, summaryTable } from './render.js';

/** VMs asked at once who they are (the fleet verbs' default). */
const IDENTIFY_CONCURRENCY = 10;

function emitter(ctx: VerbContext, board: Board): (ev: RolloutEvent) => void {
  return (ev) => {
    const stamped = { ...ev, at: new Date().toISOString() };
    if (ctx.format === 'json') ctx.io.stdout.write(`${JSON.stringify(stamped)}\n`);
    board.show(ev);
  };
}

function dryRun(ctx: VerbContext, a: RolloutArgs, p: Prepared, header: string): number {
  const first = p.plan.batches.find((b) => b.length > 0) ?? [];
  const gate = p.snapshot ? preGate(p.snapshot, first, { ignoreCordoned: a.ignoreCordoned }) : undefined;
  if (ctx.format === 'json' || ctx.format === 'yaml') {
    const doc = { plan: p.plan, resumed: p.resumed, preGateNow: gate ?? null };
    if (ctx.format === 'json') ctx.io.stdout.write(`${JSON.stringify({ event: 'dry-run', ...doc })}\n`);
    else ctx.io.stdout.write(renderData('yaml', doc));
  } else {
    const status = p.resumed ? new Map(p.store.state.nodes.map((n) => [n.node, n.status as string])) : undefined;
    ctx.io.stdout.write(`${header}\n${planTable(p.plan, status)}\n${gatesText()}`);
    if (gate) ctx.io.stdout.write(`\nPre-gate of batch 1 now: ${gate.ok ? 'would pass' : 'would FAIL'}\n${checksText(gate.checks)}`);
    for (const w of p.plan.warnings) ctx.io.stdout.write(`warning: ${w}\n`);
    ctx.io.stdout.write('(dry run: nothing was changed, no state written)\n');
  }
  return gate && !gate.ok ? ROLLOUT_EXIT.gate : ROLLOUT_EXIT.ok;
}

/** `rollout reboot`: returns the exit code. */
export async function rolloutReboot(ctx: VerbContext, targets: string[]): Promise<number> {
  const a = rolloutArgs(ctx, targets);
  if (a.resume && (ctx.given.has('order') || ctx.given.has('max-unavailable')))
    throw new UsageError('--order and --max-unavailable cannot change a rollout under way: with --resume the state file keeps its plan');
  if (!a.resume && targets.length === 0)
    throw new UsageError('rollout reboot needs VMs: guestlink rollout reboot libvirt:k8s-* --kubeconfig K');
  for (const t of targets) Connector.check(t);
  const { cluster, context, server } = await connectCluster(
    a.kubeconfig,
    ctx.env,
    Boolean((ctx.io.stdin as NodeJS.ReadStream).isTTY),
    a.context,
  );
  const interrupt = new Interrupt();
  const onSigint = () => {
    const level = interrupt.raise();
    const message =
      level === 1
        ? 'Ctrl-C: stopping at the next safe point (the nodes rebooting now back, uncordoned, the cluster settled); Ctrl-C again to stop at once'
        : 'Ctrl-C again: stopping at once; the nodes in flight are left as they are (the state file keeps track)';
    emit({ event: 'interrupt', level, message });
  };
  const board = new Board(ctx.io.stderr, !ctx.quiet && ctx.format === 'table');
  const emit = emitter(ctx, board);
  try {
    const statePath = a.state ?? defaultStatePath(ctx.env, server);
    const p = await prepareRollout({
      targets,
      connector: ctx.connector,
      cluster,
      context,
      nodeMap: a.nodeMap,
      order: a.order,
      maxUnavailable: a.maxUnavailable,
      statePath,
      resume: a.resume,
      agentTimeoutMs: ctx.timeoutMs,
      concurrency: IDENTIFY_CONCURRENCY,
    });
    const header = `cluster: context ${printable(context)} at ${printable(server)}\nstate file: ${printable(statePath)}${p.resumed ? ' (resuming)' : ''}`;
    if (a.dryRun) return dryRun(ctx, a, p, header);
    const resume = resumeCommand(ctx, a, statePath, p.store.state.targets);
    if (ctx.format === 'table' && !ctx.quiet) {
      ctx.io.stderr.write(`${header}\n${planTable(p.plan)}`);
      for (const w of p.plan.warnings) ctx.io.stderr.write(`warning: ${w}\n`);
    }
    emit({
      event: 'plan',
      rollout: p.store.state.id,
      server,
      context,
      state: statePath,
      resumed: p.resumed,
      batches: p.plan.batches.map((b) =>
        b.map((t) => ({
          ...t,
          status: p.store.state.nodes.find((n) => n.node === t.node)?.status ?? 'pending',
        })),
      ),
      warnings: p.plan.warnings,
    });
    process.on('SIGINT', onSigint);
    const final = await runRollout({
      cluster,
      connector: ctx.connector,
      store: p.store,
      ignoreCordoned: a.ignoreCordoned,
      nodeTimeoutMs: a.nodeTimeoutMs,
      settleTimeoutMs: a.settleTimeoutMs,
      interrupt,
      emit,
      resumeCommand: resume,
    });
    board.stop();
    if (ctx.format === 'table') ctx.io.stdout.write(summaryTable(summaries(final)));
    else if (ctx.format === 'yaml')
      ctx.io.stdout.write(renderData('yaml', { result: final.result, failure: final.failure, nodes: summaries(final) }));
    if (final.result === 'done') return ROLLOUT_EXIT.ok;
    const f = final.failure;
    ctx.io.stderr.write(
      `guestlink: rollout ${final.result === 'interrupted' ? 'interrupted' : 'stopped'}: ${printable(f?.message ?? 'unknown', 4000)}\n` +
        `${f?.node ? `Node ${printable(f.node)} is left as it is. ` : ''}The state is in ${printable(statePath)}. Resume with:\n  ${resume}\n`,
    );
    return rolloutExit(f?.code ?? 'ROLLOUT_NODE');
  } finally {
    process.off('SIGINT', onSigint);
    board.stop();
    cluster.close();
  }
}
