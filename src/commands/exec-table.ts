// Processes started by guest-exec and what they wrote, until guest-exec-status reports them exited
// (then forgotten, as in qemu-ga). No shell: the program is resolved through PATH like glib's
// g_spawn with G_SPAWN_SEARCH_PATH(_FROM_ENVP) and started directly. Output is capped at 16 MiB a
// stream (qemu-ga's GUEST_EXEC_MAX_OUTPUT); the rest is drained and dropped, flagged truncated.
import { type ChildProcess, type StdioOptions, spawn } from 'node:child_process';
import { constants as fsc } from 'node:fs';
import { access, stat } from 'node:fs/promises';
import { constants as osc } from 'node:os';
import path from 'node:path';
import type { Readable } from 'node:stream';
import { errnoCode, strerror } from '../protocol/qga/errno-text.js';
import { errors, genericError } from '../protocol/qga/errors.js';

/** qemu-ga's GUEST_EXEC_MAX_OUTPUT: bytes kept per stream. */
export const EXEC_MAX_OUTPUT = 16 << 20;

/** What to capture: qemu 8.0's GuestExecCaptureOutputMode (true = separated, false = none). */
export type CaptureMode = 'none' | 'stdout' | 'stderr' | 'separated' | 'merged';

/** One stream's captured bytes. */
class Capture {
  private readonly chunks: Buffer[] = [];
  length = 0;
  truncated = false;
  closed = false;

  add(chunk: Buffer): void {
    const room = EXEC_MAX_OUTPUT - this.length;
    if (room <= 0) {
      this.truncated = true;
      return;
    }
    const keep = chunk.length <= room ? chunk : chunk.subarray(0, room);
    if (keep.length < chunk.length) this.truncated = true;
    this.chunks.push(keep);
    this.length += keep.length;
  }

  base64(): string {
    return Buffer.concat(this.chunks, this.length).toString('base64');
  }
}

interface ExecRecord {
  child: ChildProcess;
  exited: boolean;
  code: number | null;
  signal: NodeJS.Signals | null;
  out?: Capture;
  err?: Capture;
  /** Streams still open; the process counts as exited only once they are closed (qemu-ga waits too). */
  open: number;
}

export interface ExecRequest {
  /** The program as the client gave it (argv[0]). */
  path: string;
  args: readonly string[];
  /** KEY=VALUE entries replacing the environment; undefined inherits the agent's. */
  env?: readonly string[];
  input?: Buffer;
  capture: CaptureMode;
}

export interface ExecStatus {
  exitcode?: number;
  'err-data'?: string;
  'out-data'?: string;
  'err-truncated'?: boolean;
  signal?: number;
  'out-truncated'?: boolean;
  exited: boolean;
}

/** glib's wording for a program that cannot be started, wrapped as qemu-ga's QERR_QGA_COMMAND_FAILED. */
export function spawnFailed(program: string, err: unknown) {
  return genericError(
    `Guest agent command failed, error was 'Failed to execute child process \u201C${program}\u201D (${strerror(err)})'`,
    'EXEC_FAILED',
  );
}

function errno(code: string): NodeJS.ErrnoException {
  return Object.assign(new Error(code), { code });
}

/**
 * Resolves `program` as g_spawn does: a name with a '/' is used as is (made absolute against
 * `cwd`); a bare name is looked up in PATH (from the request's env when it sets one, else
 * `defaultPath`), first executable regular file wins. Throws an errno error when none is found.
 */
export async function resolveProgram(program: string, envPath: string | undefined, defaultPath: string, cwd = '/'): Promise<string> {
  if (program.includes('/')) return path.resolve(cwd, program);
  if (program === '') throw errno('ENOENT');
  const dirs = (envPath ?? defaultPath).split(':');
  let denied = false;
  for (const dir of dirs) {
    const candidate = path.resolve(cwd, dir === '' ? '.' : dir, program);
    try {
      const st = await stat(candidate);
      if (!st.isFile()) {
        denied ||= st.isDirectory() === false;
        continue;
      }
      await access(candidate, fsc.X_OK);
      return candidate;
    } catch (err) {
      if (errnoCode(err) === 'EACCES') denied = true;
    }
  }
  throw errno(denied ? 'EACCES' : 'ENOENT');
}

/** Is the resolved program on the allow-list? Exact absolute paths; '*' allows any. */
export function execAllowed(resolved: string, allowExec: readonly string[]): boolean {
  return allowExec.some((entry) => entry === '*' || (entry.startsWith('/') && path.resolve(entry) === resolved));
}

function toEnv(entries: readonly string[]): Record<string, string> {
  const env: Record<string, string> = {};
  for (const e of entries) {
    const i = e.indexOf('=');
    if (i <= 0) continue; // execve would pass it, but Node's env object cannot carry it
    const key = e.slice(0, i);
    if (!Object.hasOwn(env, key)) env[key] = e.slice(i + 1); // getenv() finds the first
  }
  return env;
}

/** The running and finished-but-unreported processes of this agent. */
export class ExecTable {
  private readonly procs = new Map<number, ExecRecord>();

  /** Starts `resolved` (already allowed); resolves with its pid once it runs, rejects as g_spawn would fail. */
  start(resolved: string, req: ExecRequest): Promise<number> {
    const out = req.capture === 'stdout' || req.capture === 'separated' || req.capture === 'merged';
    const err = req.capture === 'stderr' || req.capture === 'separated' || req.capture === 'merged';
    const stdio: StdioOptions = [req.input ? 'pipe' : 'ignore', out ? 'pipe' : 'ignore', err ? 'pipe' : 'ignore'];
    return new Promise((resolve, reject) => {
      let child: ChildProcess;
      try {
        child = spawn(resolved, [...req.args], {
          argv0: req.path,
          stdio,
          shell: false,
          windowsHide: true,
          ...(req.env ? { env: toEnv(req.env) } : {}),
        });
      } catch (e) {
        reject(spawnFailed(req.path, e));
        return;
      }
      const pid = child.pid;
      if (pid === undefined) {
        child.once('error', (e) => reject(spawnFailed(req.path, e)));
        return;
      }
      const rec: ExecRecord = { child, exited: false, code: null, signal: null, open: 0 };
      child.on('error', () => {});
      child.once('exit', (code, signal) => {
        rec.exited = true;
        rec.code = code;
        rec.signal = signal;
      });
      const collect = (stream: Readable | null, cap: Capture) => {
        if (!stream) return;
        rec.open++;
        stream.on('data', (d: Buffer) => cap.add(d));
        stream.once('close', () => {
          rec.open--;
          cap.closed = true;
        });
        stream.on('error', () => {});
        (stream as Readable & { unref?: () => void }).unref?.();
      };
      if (req.capture === 'merged') {
        // One buffer for both streams, in arrival order (stdout and stderr are separate pipes here).
        rec.out = new Capture();
        collect(child.stdout, rec.out);
        collect(child.stderr, rec.out);
      } else {
        if (out) collect(child.stdout, (rec.out = new Capture()));
        if (err) collect(child.stderr, (rec.err = new Capture()));
      }
      if (req.input && child.stdin) {
        child.stdin.on('error', () => {}); // EPIPE when the program does not read it all
        child.stdin.end(req.input);
        (child.stdin as unknown as { unref?: () => void }).unref?.();
      }
      // The agent may exit while children run: they are left alone, as qemu-ga leaves them.
      child.unref();
      this.procs.set(pid, rec);
      resolve(pid);
    });
  }

  /** guest-exec-status: running, or exited with code/signal and output (then forgotten). */
  status(pid: number | bigint): ExecStatus {
    const rec = typeof pid === 'number' ? this.procs.get(pid) : undefined;
    if (!rec) throw errors.invalidParameter('pid');
    if (!rec.exited || rec.open > 0) return { exited: false };
    this.procs.delete(pid as number);
    // Key order as qemu-ga prints it (its QDict's bucket order).
    const res: ExecStatus = {} as ExecStatus;
    if (rec.code !== null) res.exitcode = rec.code;
    if (rec.err && rec.err.length > 0) res['err-data'] = rec.err.base64();
    if (rec.out && rec.out.length > 0) res['out-data'] = rec.out.base64();
    if (rec.err && rec.err.length > 0) res['err-truncated'] = rec.err.truncated;
    if (rec.code === null && rec.signal) res.signal = (osc.signals as Record<string, number>)[rec.signal] ?? 0;
    if (rec.out && rec.out.length > 0) res['out-truncated'] = rec.out.truncated;
    res.exited = true;
    return res;
  }

  /** How many processes are remembered (running or unreported). */
  get size(): number {
    return this.procs.size;
  }
}
