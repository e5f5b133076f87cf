// Programs the agent starts: guest-exec's processes and the fsfreeze hook.
// One of the node interfaces (node/interfaces.ts re-exports them all).

/** A program for guest-exec to start: already resolved and allowed; the environment is complete (nothing inherited). */
export interface ProcessSpec {
  /** Absolute path of the program. */
  file: string;
  /** argv[0]: the name as the client gave it. */
  argv0: string;
  args: readonly string[];
  /** The whole environment of the program. */
  env: Readonly<Record<string, string>>;
  /** Bytes for its stdin, which is then closed; absent: stdin is /dev/null. */
  stdin?: Uint8Array;
  /** Pipe its stdout back (else /dev/null). */
  stdout: boolean;
  /** Pipe its stderr back (else /dev/null). */
  stderr: boolean;
}

/** How a started process ended: exit code, or the number of the signal that killed it. */
export interface ProcessExit {
  code: number | null;
  signal: number | null;
}

/** What a running process reports back, in order: output chunks and the input's release, then `exited` once. */
export interface ProcessEvents {
  output(stream: 'stdout' | 'stderr', chunk: Buffer): void;
  /** stdin was handed over in full, or abandoned (the program closed it or ended): its bytes are no longer held. */
  inputReleased(): void;
  /** The process ended and its output pipes are closed (so no output follows), as qemu-ga waits for both. */
  exited(exit: ProcessExit): void;
}

/** Starts programs for guest-exec: the only place they are spawned (node/linux/process-runner.ts). */
export interface ProcessRunner {
  /**
   * Resolves `program` as glib's g_spawn does: a name with a '/' as is (made absolute), a bare name
   * through `searchPath`; rejects with an errno error (code ENOENT/EACCES) when none is found.
   */
  resolve(program: string, searchPath: string): Promise<string>;
  /** Starts it; resolves with its pid once it runs; rejects with an errno error when it cannot start. */
  start(spec: ProcessSpec, events: ProcessEvents): Promise<number>;
}

/**
 * Runs the fsfreeze hook (qemu-ga's -F) with "freeze" or "thaw" and waits for it; rejects with a QgaError
 * worded like qemu-ga's (node/linux/freeze-hook.ts).
 */
export type FreezeHookRunner = (hook: string, arg: 'freeze' | 'thaw') => Promise<void>;
