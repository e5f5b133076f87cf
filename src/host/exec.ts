// Run a program in the guest: guest-exec, then guest-exec-status polled with exponential backoff
// (20 ms doubling to 1 s) instead of the fixed one-second sleep of the usual scripts: short commands
// return in tens of milliseconds, long ones cost one request a second. Output is handed on as soon
// as the agent reports it (QGA agents report it when the process has exited).
import { Buffer } from 'node:buffer';
import { isObject, type JsonObject } from '../protocol/qga/json-value.js';
import type { AgentConnection, CallOptions } from './connection.js';
import { QgaRemoteError, QgaTimeoutError, TooLargeError } from './errors.js';
import { QGA_EXEC_OUTPUT_MAX } from './reply-limits.js';

export interface ExecRequest {
  path: string;
  args?: string[];
  env?: string[];
  /** Bytes for the program's stdin (closed afterwards). */
  input?: Buffer;
}

export interface ExecResult {
  pid: number;
  /** Exit code when the program exited normally. */
  exitCode?: number;
  /** Signal number when it was killed by one. */
  signal?: number;
  stdout: Buffer;
  stderr: Buffer;
  stdoutTruncated: boolean;
  stderrTruncated: boolean;
  /** How many guest-exec-status requests were made. */
  polls: number;
}

export interface ExecOptions extends CallOptions {
  /** Called with output as it arrives. */
  onStdout?: (b: Buffer) => void;
  onStderr?: (b: Buffer) => void;
  /** First and largest pause between status polls (ms). */
  minPollMs?: number;
  maxPollMs?: number;
  /**
   * The most output (each stream) accepted from the agent, default QGA's own 16 MiB: a legitimate agent
   * never sends more, so more is refused (TooLargeError) instead of buffered.
   */
  maxOutputBytes?: number;
  /** Give up waiting after this long (ms; the program keeps running in the guest). */
  deadlineMs?: number;
  signal?: AbortSignal;
}

/**
 * The shell convention for a command's status: its exit code, or 128 + the signal number. The numbers
 * are the agent's word: anything a process cannot have exited with (above 255, negative, fractional,
 * 1e308, which Node refuses as an exit code) is 255, as for any failure.
 */
export function shellStatus(r: Pick<ExecResult, 'exitCode' | 'signal'>): number {
  const within = (n: number, lo: number, hi: number) => Number.isInteger(n) && n >= lo && n <= hi;
  if (r.exitCode !== undefined) return within(r.exitCode, 0, 255) ? r.exitCode : 255;
  if (r.signal !== undefined) return within(r.signal, 1, 127) ? 128 + r.signal : 255;
  return 255;
}

const sleep = (ms: number, signal?: AbortSignal) =>
  new Promise<void>((resolve) => {
    const t = setTimeout(resolve, ms);
    signal?.addEventListener('abort', () => {
      clearTimeout(t);
      resolve();
    });
  });

export async function execInGuest(conn: AgentConnection, req: ExecRequest, opts: ExecOptions = {}): Promise<ExecResult> {
  const args: JsonObject = { path: req.path, 'capture-output': true };
  if (req.args?.length) args.arg = req.args;
  if (req.env) args.env = req.env;
  if (req.input) args['input-data'] = req.input.toString('base64');
  const started = await conn.call('guest-exec', args, opts);
  if (!isObject(started) || typeof started.pid !== 'number') throw new QgaRemoteError('GenericError', 'guest-exec returned no pid');
  const pid = started.pid;
  const out: Buffer[] = [];
  const err: Buffer[] = [];
  let wait = opts.minPollMs ?? 20;
  const maxWait = opts.maxPollMs ?? 1000;
  const deadline = opts.deadlineMs !== undefined ? Date.now() + opts.deadlineMs : Number.POSITIVE_INFINITY;
  let polls = 0;
  const maxOut = Math.min(opts.maxOutputBytes ?? QGA_EXEC_OUTPUT_MAX, QGA_EXEC_OUTPUT_MAX);
  const got = { 'out-data': 0, 'err-data': 0 };
  for (;;) {
    // Each reply may carry what is left of both streams' allowance, no more.
    const left = maxOut - got['out-data'] + (maxOut - got['err-data']);
    const st = await conn.call('guest-exec-status', { pid }, { ...opts, maxPayloadBytes: Math.min(left, opts.maxPayloadBytes ?? left) });
    polls++;
    if (!isObject(st)) throw new QgaRemoteError('GenericError', 'guest-exec-status returned no object');
    for (const [key, sink, cb] of [
      ['out-data', out, opts.onStdout],
      ['err-data', err, opts.onStderr],
    ] as const) {
      const v = st[key];
      if (typeof v === 'string' && v.length > 0) {
        const b = Buffer.from(v, 'base64');
        got[key] += b.length;
        if (got[key] > maxOut)
          throw new TooLargeError(
            `pid ${pid} sent more than ${maxOut} bytes of ${key === 'out-data' ? 'stdout' : 'stderr'}; stopped reading (QGA agents keep at most 16 MiB per stream)`,
          );
        sink.push(b);
        cb?.(b);
      }
    }
    if (st.exited === true) {
      return {
        pid,
        ...(typeof st.exitcode === 'number' ? { exitCode: st.exitcode } : {}),
        ...(typeof st.signal === 'number' ? { signal: st.signal } : {}),
        stdout: Buffer.concat(out),
        stderr: Buffer.concat(err),
        stdoutTruncated: st['out-truncated'] === true,
        stderrTruncated: st['err-truncated'] === true,
        polls,
      };
    }
    if (opts.signal?.aborted) throw new Error(`stopped waiting for pid ${pid}; it keeps running in the guest`);
    if (Date.now() + wait > deadline)
      throw new QgaTimeoutError(`pid ${pid} is still running after the deadline; it keeps running in the guest`);
    await sleep(wait, opts.signal);
    wait = Math.min(wait * 2, maxWait);
  }
}
