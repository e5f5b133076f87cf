// Runs the CLI like run-cli.ts does and reads its peak RSS (VmHWM) from /proc/<pid>/status while the
// process is still alive: hold-at-exit.ts stops it at the end until the reading is taken.
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import type { Socket } from 'node:net';
import { CLI, type CliResult } from '../cli/run-cli.js';

export interface MeasuredResult extends CliResult {
  /** Peak resident set of the CLI process, KiB (VmHWM); undefined when it never reached its end. */
  peakKiB: number | undefined;
}

const vmHwm = (pid: number) => Number(/^VmHWM:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1]);

export function runCliMeasured(args: string[], opts: { env?: Record<string, string>; timeoutMs?: number } = {}): Promise<MeasuredResult> {
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(process.env)) if (v !== undefined && !/^(PVE_|KUBECONFIG$|GUESTLINK_)/.test(k)) env[k] = v;
  const hold = new URL('./hold-at-exit.js', import.meta.url).href;
  const t0 = performance.now();
  const child = spawn(process.execPath, ['--import', hold, CLI, ...args], {
    env: { ...env, ...opts.env },
    stdio: ['pipe', 'pipe', 'pipe', 'pipe'],
  });
  const out: Buffer[] = [];
  const err: Buffer[] = [];
  child.stdout?.on('data', (d: Buffer) => out.push(d));
  child.stderr?.on('data', (d: Buffer) => err.push(d));
  child.stdin?.end();
  let peakKiB: number | undefined;
  const ctl = child.stdio[3] as Socket;
  ctl.on('data', () => {
    peakKiB = vmHwm(child.pid as number);
    ctl.end();
  });
  ctl.on('error', () => {});
  const timer = setTimeout(() => child.kill('SIGKILL'), opts.timeoutMs ?? 120_000);
  return new Promise((resolve) => {
    child.on('close', (status, signal) => {
      clearTimeout(timer);
      const raw = Buffer.concat(out);
      resolve({
        status,
        signal,
        stdout: raw.toString('utf8'),
        stderr: Buffer.concat(err).toString('utf8'),
        raw,
        ms: performance.now() - t0,
        peakKiB,
      });
    });
  });
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
