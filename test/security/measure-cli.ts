// Runs the CLI like run-cli.ts does and reads its peak RSS (VmHWM) from /proc/<pid>/status while the
// process is still alive: hold-at-exit.ts stops it at the end until the reading is taken.
import { readFileSync } from 'node:fs';
import type { Socket } from 'node:net';
import { type CliOptions, type CliResult, startCli } from '../cli/run-cli.js';

export interface MeasuredResult extends CliResult {
  /** Peak resident set of the CLI process, KiB (VmHWM); undefined when it never reached its end. */
  peakKiB: number | undefined;
}

const vmHwm = (pid: number) => Number(/^VmHWM:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1]);

export async function runCliMeasured(args: string[], opts: Pick<CliOptions, 'env' | 'timeoutMs'> = {}): Promise<MeasuredResult> {
  const hold = new URL('./hold-at-exit.js', import.meta.url).href;
  const { child, result } = startCli(args, { timeoutMs: 120_000, ...opts, nodeArgs: ['--import', hold], controlPipe: true });
  let peakKiB: number | undefined;
  const ctl = child.stdio[3] as Socket;
  ctl.on('data', () => {
    peakKiB = vmHwm(child.pid as number);
    ctl.end();
  });
  ctl.on('error', () => {});
  return { ...(await result), peakKiB };
}

/**
 * The CLI's documented memory ceilings against a hostile guest (docs/security.md): whatever a guest
 * sends on a bounded path (kubeconfig, cp, any reply but program output), the CLI's peak RSS stays
 * under the first; Node's own start-up with the bundle is ~57 MiB here, and the largest such reply
 * (8 MiB) adds ~15 MiB. Program output may legitimately be QGA's 2 x 16 MiB in one reply, which costs
 * up to ~220 MiB to parse and decode: the second ceiling.
 */
export const CLI_PEAK_RSS_CEILING_KIB = 128 * 1024;
export const CLI_EXEC_PEAK_RSS_CEILING_KIB = 256 * 1024;
