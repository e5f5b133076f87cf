// Where the agent's log lines go: fd 2 or the -l FILE, written synchronously, one line per write. The
// agent's own writer rather than pino.destination() (sonic-boom): the agent only ever writes whole lines
// synchronously, and bundling sonic-boom made every start load node:assert, and pino's worker-thread
// machinery with it, for nothing (scripts/bundle.mjs leaves both out of the bundles; measured in
// docs/benchmarks.md). It keeps what sonic-boom did in sync mode for the agent:
// - a partial write is continued until the whole line is out;
// - EAGAIN or EBUSY (fd 2 left non-blocking by whoever started the agent) waits 100 ms and tries again,
//   rather than losing the line;
// - EPIPE (the reader of fd 2 went away) stops logging for good, quietly, as pino did: the agent keeps
//   serving; any other write error is thrown to the caller, as before;
// - the file is opened for appending (created 0666 less the umask), its directory made first, and an
//   error opening it is thrown at once (the agent then refuses to start with it).
import { mkdirSync, openSync, writeSync } from 'node:fs';
import path from 'node:path';

/** How long a write that met EAGAIN/EBUSY waits before it tries again (sonic-boom's BUSY_WRITE_TIMEOUT). */
export const BUSY_RETRY_MS = 100;

/** The calls the writer makes, so tests can stand in for the file descriptor. */
export interface WriterIo {
  write(fd: number, buf: Buffer, offset: number): number;
  sleep(ms: number): void;
}

const nil = new Int32Array(new SharedArrayBuffer(4));
const realIo: WriterIo = {
  write: (fd, buf, offset) => writeSync(fd, buf, offset),
  sleep: (ms) => {
    Atomics.wait(nil, 0, 0, ms);
  },
};

/** A synchronous line writer on a file descriptor: what pino writes the agent's JSON lines to. */
export class SyncLineWriter {
  private broken = false;

  constructor(
    readonly fd: number,
    private readonly io: WriterIo = realIo,
  ) {}

  /** Opens `file` for appending (its directory created first); throws when it cannot be opened. */
  static open(file: string): SyncLineWriter {
    mkdirSync(path.dirname(file), { recursive: true });
    return new SyncLineWriter(openSync(file, 'a'));
  }

  write(line: string): void {
    if (this.broken) return;
    const buf = Buffer.from(line, 'utf8');
    let off = 0;
    while (off < buf.length) {
      try {
        off += this.io.write(this.fd, buf, off);
      } catch (err) {
        const code = (err as NodeJS.ErrnoException).code;
        if (code === 'EAGAIN' || code === 'EBUSY') this.io.sleep(BUSY_RETRY_MS);
        else if (code === 'EPIPE') {
          this.broken = true;
          return;
        } else throw err;
      }
    }
  }
}
