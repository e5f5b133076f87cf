// Fleet mode for per-VM verbs: expand patterns, run with bounded concurrency, a live progress line
// on a terminal, then a summary table (or json/yaml); non-zero exit when any VM failed.
import { runFleet } from '../host/fleet.js';
import { describeError, EXIT } from './exit-codes.js';
import { renderData, table } from './output.js';
import { ProgressLine } from './progress.js';
import { terminalSafe } from './terminal-text.js';
import type { PerVmVerb, VerbContext, View } from './verbs/types.js';

export async function runFleetVerb(
  verb: PerVmVerb,
  ctx: VerbContext,
  addresses: string[],
  trailing: string[],
  concurrency: number,
): Promise<number> {
  const progress = new ProgressLine(ctx.io.stderr, !ctx.quiet);
  const t0 = performance.now();
  let peak = 0;
  const results = await runFleet(ctx.connector, addresses, (conn) => verb.one(conn, ctx, trailing), {
    concurrency,
    onProgress: (p) => {
      peak = Math.max(peak, p.running);
      progress.update(`${verb.name}: ${p.done}/${p.total} done, ${p.failed} failed, ${p.running} running`, p.done === p.total);
    },
  });
  progress.done();
  const wallMs = performance.now() - t0;
  const failed = results.filter((r) => !r.ok || (r.value as View | undefined)?.failed).length;
  if (ctx.format === 'table') {
    if (verb.name === 'exec') {
      // Each VM's output, prefixed with its address, before the summary. Lines from many guests share
      // one terminal here, so unlike single-VM exec (raw, like ssh) they are shown escaped; -o json is exact.
      for (const r of results) {
        const text = r.ok ? (r.value as View).table() : '';
        for (const line of text.split('\n').filter(Boolean)) ctx.io.stdout.write(`[${r.address}] ${terminalSafe(line)}\n`);
      }
    }
    const rows = results.map((r) => {
      const v = r.value as View | undefined;
      const status = !r.ok ? 'FAILED' : v?.failed ? 'FAILED' : 'ok';
      return [r.address, status, `${Math.round(r.ms)} ms`, r.ok ? v?.summary : describeError(r.error).message];
    });
    ctx.io.stdout.write(table(['VM', 'STATUS', 'TIME', 'RESULT'], rows));
    ctx.io.stdout.write(
      `${results.length - failed}/${results.length} ok in ${(wallMs / 1000).toFixed(2)} s (at most ${concurrency} at once, peak ${peak})\n`,
    );
  } else {
    ctx.io.stdout.write(
      renderData(ctx.format, {
        results: results.map((r) =>
          r.ok
            ? { vm: r.address, ok: !(r.value as View).failed, ms: Math.round(r.ms), result: (r.value as View).data }
            : {
                vm: r.address,
                ok: false,
                ms: Math.round(r.ms),
                error: describeError(r.error).message,
                exitCode: describeError(r.error).code,
              },
        ),
        total: results.length,
        failed,
        wallMs: Math.round(wallMs),
        concurrency,
        peakConcurrency: peak,
      }),
    );
  }
  return failed > 0 ? EXIT.someFailed : EXIT.ok;
}
