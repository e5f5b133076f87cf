// Runs the guestlink CLI as a user would (bin/guestlink.js in a child process) and collects its
// exit status and output; the environment is clean of PVE_* and KUBECONFIG unless a test sets them.
import { spawn } from 'node:child_process';
import path from 'node:path';
import { REPO_ROOT } from '../peer/harness.js';

export const CLI = path.join(REPO_ROOT, 'bin/guestlink.js');

export interface CliResult {
  status: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  raw: Buffer;
  ms: number;
}

export function runCli(
  args: string[],
  opts: { env?: Record<string, string>; input?: Buffer | string; timeoutMs?: number } = {},
): Promise<CliResult> {
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(process.env)) if (v !== undefined && !/^(PVE_|KUBECONFIG$|GUESTLINK_)/.test(k)) env[k] = v;
  const t0 = performance.now();
  const child = spawn(process.execPath, [CLI, ...args], { env: { ...env, ...opts.env }, stdio: ['pipe', 'pipe', 'pipe'] });
  const out: Buffer[] = [];
  const err: Buffer[] = [];
  child.stdout.on('data', (d: Buffer) => out.push(d));
  child.stderr.on('data', (d: Buffer) => err.push(d));
  child.stdin.end(opts.input ?? '');
  const timer = setTimeout(() => child.kill('SIGKILL'), opts.timeoutMs ?? 60_000);
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
      });
    });
  });
}
