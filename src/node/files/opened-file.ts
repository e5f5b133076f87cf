// The I/O on one open guest-file-* handle, with qemu-ga's semantics (it uses stdio FILE*): a position per
// handle, eof true when a read came back short, append writes landing at the end. Plain fds instead of
// stdio: writes reach the kernel at once (qemu-ga's only sit in a buffer until flush/close/read), so
// guest-file-flush has nothing to push. Async fs calls: a slow disk holds a pool thread, not the agent.
import { close as closeFd, fstat, read as readFd, type Stats, write as writeFd } from 'node:fs';
import { errnoCode, strerror } from '../../protocol/qga/errno-text.js';
import { genericError } from '../../protocol/qga/errors.js';
import type { FileOpenMode, OpenedFile } from '../interfaces.js';

/** Promise forms of the fd calls (the callback API: no FileHandle object per handle, no extra hop). */
export const fdCalls = {
  close: (fd: number) => new Promise<void>((res, rej) => closeFd(fd, (err) => (err ? rej(err) : res()))),
  fstat: (fd: number) => new Promise<Stats>((res, rej) => fstat(fd, (err, st) => (err ? rej(err) : res(st)))),
  read: (fd: number, buf: Buffer, off: number, len: number, pos: number | null) =>
    new Promise<number>((res, rej) => readFd(fd, buf, off, len, pos, (err, n) => (err ? rej(err) : res(n)))),
  write: (fd: number, buf: Buffer, off: number, len: number, pos: number | null) =>
    new Promise<number>((res, rej) => writeFd(fd, buf, off, len, pos, (err, n) => (err ? rej(err) : res(n)))),
};

/** One open handle: the fd, where the next read or write goes. */
export class FdFile implements OpenedFile {
  /** The file position, for seekable files (regular files and block devices). */
  private pos: number;
  private queue: Promise<unknown> = Promise.resolve();
  private readonly seekable: boolean;
  /** FIFOs and sockets refuse seeks (ESPIPE); other character devices accept them at 0. */
  private readonly pipeLike: boolean;

  /** Wraps an fd opened with `mode`; `st` is its fstat. The position starts at the end for 'a' (as glibc does). */
  constructor(
    readonly fd: number,
    readonly path: string,
    private readonly mode: FileOpenMode,
    st: Stats,
  ) {
    this.seekable = st.isFile() || st.isBlockDevice() || st.isDirectory();
    this.pipeLike = st.isFIFO() || st.isSocket();
    this.pos = mode.append && !mode.readable && st.isFile() ? st.size : 0;
  }

  /** Runs operations on this handle one at a time, in arrival order. */
  private serial<T>(op: () => Promise<T>): Promise<T> {
    const next = this.queue.then(op, op);
    this.queue = next.catch(() => {});
    return next;
  }

  read(count: number, into?: Buffer): Promise<{ count: number; data: Buffer; eof: boolean }> {
    return this.serial(async () => {
      // The caller's buffer (guest-file-read's reply room), or a fresh one: never one of this handle's, since
      // the reply is encoded from it after this operation ends, while the next read on the handle may
      // already be filling another buffer on a thread-pool thread.
      const buf = into ?? Buffer.allocUnsafe(Math.max(count, 1));
      let got = 0;
      let eof = false;
      try {
        while (got < count) {
          let n: number;
          try {
            n = await fdCalls.read(this.fd, buf, got, count - got, this.seekable ? this.pos : null);
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

  write(data: Buffer): Promise<number> {
    return this.serial(async () => {
      let done = 0;
      try {
        while (done < data.length) {
          let n: number;
          try {
            n = await fdCalls.write(this.fd, data, done, data.length - done, this.seekable && !this.mode.append ? this.pos : null);
          } catch (err) {
            if (errnoCode(err) === 'EAGAIN' && done > 0) break;
            throw err;
          }
          done += n;
          if (this.seekable && !this.mode.append) this.pos += n;
        }
        if (this.seekable && this.mode.append) this.pos = (await fdCalls.fstat(this.fd)).size;
      } catch (err) {
        throw genericError(`failed to write to file: ${strerror(err)}`, 'IO');
      }
      return done;
    });
  }

  seek(offset: number, whence: 0 | 1 | 2): Promise<number> {
    return this.serial(async () => {
      if (this.pipeLike) throw genericError('failed to seek file: Illegal seek', 'IO');
      if (!this.seekable) return 0;
      let base = 0;
      if (whence === 1) base = this.pos;
      else if (whence === 2) {
        try {
          base = (await fdCalls.fstat(this.fd)).size;
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

  flush(): Promise<void> {
    return this.serial(async () => {});
  }

  close(): Promise<void> {
    return this.serial(async () => {
      try {
        await fdCalls.close(this.fd);
      } catch (err) {
        throw genericError(`failed to close handle: ${strerror(err)}`, 'IO');
      }
    });
  }
}
