// The open guest-file-* handles of this agent process, and the I/O on them, with qemu-ga's
// semantics (it uses stdio FILE*): a position per handle, eof true when a read came back short,
// append writes landing at the end. Plain fds instead of stdio: writes reach the kernel at once
// (qemu-ga's only sit in a buffer until flush/close/read), so guest-file-flush has nothing to push.
import { close as closeFd, constants, fstat, open, read as readFd, type Stats, write as writeFd } from 'node:fs';
import { errnoCode, strerror } from '../protocol/qga/errno-text.js';
import { genericError } from '../protocol/qga/errors.js';

/** How an fopen() mode string opens a file: qemu-ga's table (r, rb, w, wb, a, ab, r+, rb+, r+b, w+, wb+, w+b, a+, ab+, a+b). */
export interface OpenMode {
  flags: number;
  readable: boolean;
  writable: boolean;
  create: boolean;
  append: boolean;
}

const { O_RDONLY, O_WRONLY, O_RDWR, O_CREAT, O_TRUNC, O_APPEND } = constants;
const BASE_MODES: Record<string, number> = {
  r: O_RDONLY,
  w: O_WRONLY | O_CREAT | O_TRUNC,
  a: O_WRONLY | O_CREAT | O_APPEND,
  'r+': O_RDWR,
  'w+': O_RDWR | O_CREAT | O_TRUNC,
  'a+': O_RDWR | O_CREAT | O_APPEND,
};
const SPELLINGS: Record<string, string> = {
  r: 'r',
  rb: 'r',
  w: 'w',
  wb: 'w',
  a: 'a',
  ab: 'a',
  'r+': 'r+',
  'rb+': 'r+',
  'r+b': 'r+',
  'w+': 'w+',
  'wb+': 'w+',
  'w+b': 'w+',
  'a+': 'a+',
  'ab+': 'a+',
  'a+b': 'a+',
};

/** Parses a mode as qemu-ga does; throws "invalid file open mode 'zz'" otherwise. */
export function parseOpenMode(mode: string): OpenMode {
  const base = Object.hasOwn(SPELLINGS, mode) ? SPELLINGS[mode] : undefined;
  if (base === undefined) throw genericError(`invalid file open mode '${mode}'`, 'BAD_ARGUMENT');
  const flags = BASE_MODES[base] as number;
  const access = flags & (O_RDONLY | O_WRONLY | O_RDWR);
  return {
    flags,
    readable: access === O_RDONLY || access === O_RDWR,
    writable: access !== O_RDONLY,
    create: (flags & O_CREAT) !== 0,
    append: (flags & O_APPEND) !== 0,
  };
}

/** Mode of files guest-file-open creates: owner only (qemu-ga forces 0666; guestlink chooses 0600). */
export const NEW_FILE_MODE = 0o600;

const p = {
  open: (file: string, flags: number, mode: number) =>
    new Promise<number>((res, rej) => open(file, flags, mode, (err, fd) => (err ? rej(err) : res(fd)))),
  close: (fd: number) => new Promise<void>((res, rej) => closeFd(fd, (err) => (err ? rej(err) : res()))),
  fstat: (fd: number) => new Promise<Stats>((res, rej) => fstat(fd, (err, st) => (err ? rej(err) : res(st)))),
  read: (fd: number, buf: Buffer, off: number, len: number, pos: number | null) =>
    new Promise<number>((res, rej) => readFd(fd, buf, off, len, pos, (err, n) => (err ? rej(err) : res(n)))),
  write: (fd: number, buf: Buffer, off: number, len: number, pos: number | null) =>
    new Promise<number>((res, rej) => writeFd(fd, buf, off, len, pos, (err, n) => (err ? rej(err) : res(n)))),
};

/**
 * Opens `file` (already resolved and allowed) like qemu-ga's safe_open_or_create: O_NOCTTY and
 * O_NONBLOCK (a FIFO cannot hang the agent), an exclusive create first so the new file gets
 * NEW_FILE_MODE, else a plain open. O_NOFOLLOW: the resolved path must not turn into a symlink.
 */
export async function openFile(file: string, mode: OpenMode): Promise<number> {
  const flags = mode.flags | constants.O_NOCTTY | constants.O_NONBLOCK | constants.O_NOFOLLOW;
  if (mode.create) {
    try {
      return await p.open(file, flags | constants.O_EXCL, NEW_FILE_MODE);
    } catch (err) {
      if (errnoCode(err) !== 'EEXIST') throw err;
    }
  }
  return p.open(file, flags & ~constants.O_CREAT, 0);
}

/** One open handle: the fd, where the next read or write goes, and a reusable read buffer. */
export class OpenFile {
  /** The file position, for seekable files (regular files and block devices). */
  private pos = 0;
  private queue: Promise<unknown> = Promise.resolve();

  constructor(
    readonly fd: number,
    private readonly mode: OpenMode,
    private readonly seekable: boolean,
    /** FIFOs and sockets refuse seeks (ESPIPE); other character devices accept them at 0. */
    private readonly pipeLike: boolean,
    initialPos = 0,
  ) {
    this.pos = initialPos;
  }

  /** Opens and wraps: the position starts at the end for 'a' (as glibc does), else at 0. */
  static async open(file: string, mode: OpenMode): Promise<OpenFile> {
    const fd = await openFile(file, mode);
    try {
      const st = await p.fstat(fd);
      const seekable = st.isFile() || st.isBlockDevice() || st.isDirectory();
      const start = mode.append && !mode.readable && st.isFile() ? st.size : 0;
      return new OpenFile(fd, mode, seekable, st.isFIFO() || st.isSocket(), start);
    } catch (err) {
      await p.close(fd).catch(() => {});
      throw err;
    }
  }

  /** Runs operations on this handle one at a time, in arrival order. */
  private serial<T>(op: () => Promise<T>): Promise<T> {
    const next = this.queue.then(op, op);
    this.queue = next.catch(() => {});
    return next;
  }

  /** Reads up to `count` bytes; eof is true when the file ended before `count` (never for count 0). */
  read(count: number): Promise<{ count: number; data: Buffer; eof: boolean }> {
    return this.serial(async () => {
      // A fresh buffer per read: the reply is encoded from it after this operation ends, while the
      // next read on the handle may already be filling another buffer on a thread-pool thread.
      const buf = Buffer.allocUnsafe(Math.max(count, 1));
      let got = 0;
      let eof = false;
      try {
        while (got < count) {
          let n: number;
          try {
            n = await p.read(this.fd, buf, got, count - got, this.seekable ? this.pos : null);
          } catch (err) {
            // A non-blocking FIFO with nothing (more) to give: return what is there.
            if (errnoCode(err) === 'EAGAIN' && got > 0) break;
            throw err;
          }
          if (n === 0) {
            eof = true;
            break;
          }
          got += n;
          if (this.seekable) this.pos += n;
        }
      } catch (err) {
        throw genericError(`failed to read file: ${strerror(err)}`, 'IO');
      }
      return { count: got, data: buf.subarray(0, got), eof };
    });
  }

  /** Writes `data`; in append mode at the end of the file, after which the position is the end. */
  write(data: Buffer): Promise<number> {
    return this.serial(async () => {
      let done = 0;
      try {
        while (done < data.length) {
          let n: number;
          try {
            n = await p.write(this.fd, data, done, data.length - done, this.seekable && !this.mode.append ? this.pos : null);
          } catch (err) {
            if (errnoCode(err) === 'EAGAIN' && done > 0) break;
            throw err;
          }
          done += n;
          if (this.seekable && !this.mode.append) this.pos += n;
        }
        if (this.seekable && this.mode.append) this.pos = (await p.fstat(this.fd)).size;
      } catch (err) {
        throw genericError(`failed to write to file: ${strerror(err)}`, 'IO');
      }
      return done;
    });
  }

  /** Moves the position (0 set, 1 cur, 2 end); returns the new one. */
  seek(offset: number, whence: 0 | 1 | 2): Promise<number> {
    return this.serial(async () => {
      if (this.pipeLike) throw genericError('failed to seek file: Illegal seek', 'IO');
      if (!this.seekable) return 0;
      let base = 0;
      if (whence === 1) base = this.pos;
      else if (whence === 2) {
        try {
          base = (await p.fstat(this.fd)).size;
        } catch (err) {
          throw genericError(`failed to seek file: ${strerror(err)}`, 'IO');
        }
      }
      const next = base + offset;
      if (next < 0 || !Number.isSafeInteger(next)) throw genericError('failed to seek file: Invalid argument', 'IO');
      this.pos = next;
      return next;
    });
  }

  /** Waits for pending operations; writes are unbuffered, so nothing else is left to push. */
  flush(): Promise<void> {
    return this.serial(async () => {});
  }

  /** Closes the fd after pending operations; the read buffer goes with the handle. */
  close(): Promise<void> {
    return this.serial(async () => {
      try {
        await p.close(this.fd);
      } catch (err) {
        throw genericError(`failed to close handle: ${strerror(err)}`, 'IO');
      }
    });
  }
}

/** The handles of this agent process; a closed handle is forgotten at once. */
export class FileTable {
  private readonly files = new Map<number, OpenFile>();

  add(handle: number, file: OpenFile): void {
    this.files.set(handle, file);
  }

  /** The handle's file, or qemu-ga's "handle 'N' has not been found". */
  get(handle: number | bigint): OpenFile {
    const f = typeof handle === 'number' ? this.files.get(handle) : undefined;
    if (!f) throw genericError(`handle '${handle}' has not been found`, 'BAD_HANDLE');
    return f;
  }

  /** Closes and forgets a handle. */
  async close(handle: number | bigint): Promise<void> {
    const f = this.get(handle);
    this.files.delete(handle as number);
    await f.close();
  }

  /** Closes everything (agent shutdown, tests). */
  async closeAll(): Promise<void> {
    const all = [...this.files.values()];
    this.files.clear();
    await Promise.all(all.map((f) => f.close().catch(() => {})));
  }

  get size(): number {
    return this.files.size;
  }
}
