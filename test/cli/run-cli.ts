// Runs the guestlink CLI as a user would (bin/guestlink.js in a child process) and collects its
// exit status and output; the environment is clean of PVE_* and KUBECONFIG unless a test sets them.
import { type ChildProcess, spawn } from 'node:child_process';
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

export interface CliOptions {
  env?: Record<string, string>;
  input?: Buffer | string;
  timeoutMs?: number;
  /** Options for node itself, before the CLI (e.g. --import of a preload). */
  nodeArgs?: string[];
  /** A fourth stdio pipe (fd 3) for a preload to talk to the test. */
  controlPipe?: boolean;
}

/** Starts the CLI; `result` settles when it has exited and its output is collected. */
export function startCli(args: string[], opts: CliOptions = {}): { child: ChildProcess; result: Promise<CliResult> } {
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(process.env)) if (v !== undefined && !/^(PVE_|KUBECONFIG$|GUESTLINK_)/.test(k)) env[k] = v;
  const t0 = performance.now();
  const child = spawn(process.execPath, [...(opts.nodeArgs ?? []), CLI, ...args], {
    env: { ...env, ...opts.env },
    stdio: opts.controlPipe ? ['pipe', 'pipe', 'pipe', 'pipe'] : ['pipe', 'pipe', 'pipe'],
  });
  const out: Buffer[] = [];
  const err: Buffer[] = [];
  child.stdout?.on('data', (d: Buffer) => out.push(d));
  child.stderr?.on('data', (d: Buffer) => err.push(d));
  child.stdin?.end(opts.input ?? '');
  const timer = setTimeout(() => child.kill('SIGKILL'), opts.timeoutMs ?? 60_000);
  const result = new Promise<CliResult>((resolve) => {
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
  return { child, result };
}

export function runCli(args: string[], opts: CliOptions = {}): Promise<CliResult> {
  return startCli(args, opts).result;
}
