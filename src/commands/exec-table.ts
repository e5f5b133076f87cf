// Processes started by guest-exec and what they wrote, until guest-exec-status reports them exited
// (then forgotten, as in qemu-ga). The table does no I/O: a ProcessRunner (node/interfaces.ts) starts
// the programs and reports their output and exit. Output is capped at 16 MiB a stream (qemu-ga's
// GUEST_EXEC_MAX_OUTPUT); the rest is drained and dropped, flagged truncated.
//
// What qemu-ga leaves unbounded is bounded here (docs/security.md, "Programs: guest-exec"):
// - processes running or exited but not yet reported: at most maxProcesses; a guest-exec beyond it
//   is refused until guest-exec-status collects one (nothing accepted is ever dropped to make room);
// - captured output kept for unreported processes, all together: at most maxOutputBytes; output past
//   it is dropped and flagged truncated, like output past the per-stream cap, and a new guest-exec that
//   captures output is refused while the budget is used up;
// - input-data the programs have not read yet, all together: counted against maxInputBytes from the
//   request until the program has taken all of it (or closed its stdin, or ended); a request whose
//   input does not fit is refused. The bytes are held in the agent's memory meanwhile, so this is what
//   bounds a flood of large input-data for programs that never read it.
import type { ProcessExit, ProcessRunner } from '../node/interfaces.js';
import { strerror } from '../protocol/qga/errno-text.js';
import { errors, genericError, type QgaError } from '../protocol/qga/errors.js';
import { Base64Bytes } from '../protocol/qga/json-value.js';

/** qemu-ga's GUEST_EXEC_MAX_OUTPUT: bytes kept per stream. */
export const EXEC_MAX_OUTPUT = 16 << 20;

/** What to capture: qemu 8.0's GuestExecCaptureOutputMode (true = separated, false = none). */
export type CaptureMode = 'none' | 'stdout' | 'stderr' | 'separated' | 'merged';

/** The table's caps (settings --max-exec-processes, --max-exec-output-bytes, --max-exec-input-bytes). */
export interface ExecLimits {
  maxProcesses: number;
  maxOutputBytes: number;
  maxInputBytes: number;
}

/** Bytes as a person reads them in an error: "64 MiB", "1.5 KiB", "100 bytes". */
export function showBytes(n: number): string {
  for (const [unit, size] of [
    ['GiB', 2 ** 30],
    ['MiB', 2 ** 20],
    ['KiB', 2 ** 10],
  ] as const) {
    if (n >= size) return `${Number((n / size).toFixed(1))} ${unit}`;
  }
  return `${n} bytes`;
}

/** One stream's captured bytes; `room()` says how many more the table lets it keep. */
class Capture {
  private readonly chunks: Buffer[] = [];
  length = 0;
  truncated = false;

  /** Keeps what fits in `room` bytes, drops the rest (flagged); returns how many bytes were kept. */
  add(chunk: Buffer, room: number): number {
    const fits = Math.max(0, Math.min(room, EXEC_MAX_OUTPUT - this.length));
    if (fits < chunk.length) this.truncated = true;
    if (fits === 0) return 0;
    const keep = chunk.length <= fits ? chunk : Buffer.from(chunk.subarray(0, fits));
    this.chunks.push(keep);
    this.length += keep.length;
    return keep.length;
  }

  /** The bytes, base64-encoded only when the reply is written, from the pieces they came in (no copy, no string). */
  data(): Base64Bytes {
    return new Base64Bytes(this.chunks);
  }
}

interface ExecRecord {
  exit?: ProcessExit;
  out?: Capture;
  err?: Capture;
}

/** One guest-exec, checked and resolved: what the table hands the runner. */
export interface ExecRequest {
  /** The program as the client gave it (argv[0]). */
  path: string;
  args: readonly string[];
  /** The program's whole environment (built by exec-env.ts). */
  env: Readonly<Record<string, string>>;
  input?: Buffer;
  capture: CaptureMode;
}

/** guest-exec-status's reply; output stays bytes until the reply is written. */
export interface ExecStatus {
  exitcode?: number;
  'err-data'?: Base64Bytes;
  'out-data'?: Base64Bytes;
  'err-truncated'?: boolean;
  signal?: number;
  'out-truncated'?: boolean;
  exited: boolean;
}

/** glib's wording for a program that cannot be started, wrapped as qemu-ga's QERR_QGA_COMMAND_FAILED. */
export function spawnFailed(program: string, err: unknown): QgaError {
  return genericError(
    `Guest agent command failed, error was 'Failed to execute child process \u201C${program}\u201D (${strerror(err)})'`,
    'EXEC_FAILED',
  );
}

function limitError(what: string, flag: string, next: string): QgaError {
  return genericError(`guest-exec: ${what}; ${next} (the limit is set with ${flag})`, 'LIMIT');
}

/** The running and finished-but-unreported processes of this agent. */
export class ExecTable {
  private readonly procs = new Map<number, ExecRecord>();
  /** Starts under way (counted against maxProcesses before the pid exists). */
  private starting = 0;
  private outputHeld = 0;
  private inputHeld = 0;

  constructor(
    private readonly runner: ProcessRunner,
    private readonly limits: ExecLimits,
  ) {}

  /** Resolves a program name as g_spawn does (see ProcessRunner.resolve). */
  resolve(program: string, searchPath: string): Promise<string> {
    return this.runner.resolve(program, searchPath);
  }

  /**
   * Refuses a request the caps cannot take, before its input-data is decoded; `inputBytes` may be an
   * estimate from the base64 length (start() checks the exact size again).
   */
  admit(capture: CaptureMode, inputBytes: number): void {
    const { maxProcesses, maxOutputBytes, maxInputBytes } = this.limits;
    if (this.procs.size + this.starting >= maxProcesses)
      throw limitError(
        `${maxProcesses} processes are running or not yet reported, the most the agent keeps`,
        '--max-exec-processes',
        'collect finished ones with guest-exec-status first',
      );
    if (capture !== 'none' && this.outputHeld >= maxOutputBytes)
      throw limitError(
        `the output kept for processes not yet reported has reached ${showBytes(maxOutputBytes)}`,
        '--max-exec-output-bytes',
        'collect it with guest-exec-status first',
      );
    if (inputBytes > 0 && this.inputHeld + inputBytes > maxInputBytes)
      throw limitError(
        `input-data of ${showBytes(inputBytes)} does not fit: ${showBytes(this.inputHeld)} of at most ${showBytes(maxInputBytes)} is held for programs that have not read theirs yet`,
        '--max-exec-input-bytes',
        inputBytes > maxInputBytes ? 'send less input-data' : 'try again once they have read it or ended',
      );
  }

  /** Starts `resolved` (already allowed); resolves with its pid once it runs, rejects as g_spawn would fail. */
  async start(resolved: string, req: ExecRequest): Promise<number> {
    const inputBytes = req.input?.length ?? 0;
    this.admit(req.capture, inputBytes);
    const rec: ExecRecord = {};
    if (req.capture === 'merged') rec.out = new Capture();
    if (req.capture === 'stdout' || req.capture === 'separated') rec.out = new Capture();
    if (req.capture === 'stderr' || req.capture === 'separated') rec.err = new Capture();
    this.starting++;
    this.inputHeld += inputBytes;
    let inputHeld = inputBytes > 0;
    const releaseInput = () => {
      if (!inputHeld) return;
      inputHeld = false;
      this.inputHeld -= inputBytes;
    };
    let pid: number;
    try {
      pid = await this.runner.start(
        {
          file: resolved,
          argv0: req.path,
          args: req.args,
          env: req.env,
          ...(req.input ? { stdin: req.input } : {}),
          stdout: rec.out !== undefined,
          stderr: rec.err !== undefined || req.capture === 'merged',
        },
        {
          // merged: one buffer for both streams, in arrival order (they are separate pipes here).
          output: (stream, chunk) => {
            const cap = stream === 'stdout' || req.capture === 'merged' ? rec.out : rec.err;
            if (cap) this.outputHeld += cap.add(chunk, this.limits.maxOutputBytes - this.outputHeld);
          },
          inputReleased: releaseInput,
          exited: (exit) => {
            rec.exit = exit;
          },
        },
      );
    } catch (err) {
      releaseInput();
      throw spawnFailed(req.path, err);
    } finally {
      this.starting--;
    }
    this.procs.set(pid, rec);
    return pid;
  }

  /** guest-exec-status: running, or exited with code/signal and output (then forgotten). */
  status(pid: number | bigint): ExecStatus {
    const rec = typeof pid === 'number' ? this.procs.get(pid) : undefined;
    if (!rec) throw errors.invalidParameter('pid');
    const exit = rec.exit;
    if (!exit) return { exited: false };
    this.procs.delete(pid as number);
    this.outputHeld -= (rec.out?.length ?? 0) + (rec.err?.length ?? 0);
    // Key order as qemu-ga prints it (its QDict's bucket order).
    const res: ExecStatus = {} as ExecStatus;
    if (exit.code !== null) res.exitcode = exit.code;
    if (rec.err && rec.err.length > 0) res['err-data'] = rec.err.data();
    if (rec.out && rec.out.length > 0) res['out-data'] = rec.out.data();
    // A stream cut to nothing by the shared budget still says so (qemu-ga, without that budget, never has this case).
    if (rec.err && (rec.err.length > 0 || rec.err.truncated)) res['err-truncated'] = rec.err.truncated;
    if (exit.code === null && exit.signal !== null) res.signal = exit.signal;
    if (rec.out && (rec.out.length > 0 || rec.out.truncated)) res['out-truncated'] = rec.out.truncated;
    res.exited = true;
    return res;
  }

  /** How many processes are remembered (running or unreported). */
  get size(): number {
    return this.procs.size;
  }

  /** Bytes held now: captured output of unreported processes, and input-data not yet read. */
  get held(): { output: number; input: number } {
    return { output: this.outputHeld, input: this.inputHeld };
  }
}
