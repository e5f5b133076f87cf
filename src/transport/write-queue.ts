// The virtio-serial port's replies on their way out: written straight away when the driver takes them, else
// queued in order and written as the host reads (the driver takes at most 32 KiB per write()).
import os from 'node:os';
import { getSystemErrorName } from 'node:util';
import type { FdReadiness, SerialConnection } from './port-base.js';
import { DEFAULT_MAX_QUEUED_REPLY_BYTES, type TransportLog } from './types.js';

const EAGAIN = os.constants.errno.EAGAIN;
// The virtio_console driver copies at most 32 KiB per write(); bigger writes return short.
const WRITE_CHUNK = 32 << 10;
/** Retry delays for a non-blocking write that got EAGAIN (no host, or a host that does not read): doubling. */
const WRITE_RETRY_MIN_MS = 1;
const WRITE_RETRY_MAX_MS = 50;

/** What the queue writes to: the port's current fd and how it is used. */
export interface WriteTarget {
  /** The open fd, or undefined while the port is closed (queued replies are then dropped). */
  readonly fd: number | undefined;
  /** Watch mode: the fd is non-blocking, written with the addon's write(); else pooled fs.write. */
  readonly watching: boolean;
  readonly stopped: boolean;
}

interface QueuedWrite {
  conn: SerialConnection;
  data: Buffer;
  offset: number;
  resolve: () => void;
}

/** An Error shaped like Node's own for a failed syscall (code, errno, syscall) from the addon's -errno. */
export function errnoError(negErrno: number, syscall: string): NodeJS.ErrnoException {
  const errno = -negErrno;
  let code: string;
  try {
    code = getSystemErrorName(negErrno);
  } catch {
    code = `E${errno}`;
  }
  return Object.assign(new Error(`${code}: ${syscall} failed`), { code, errno, syscall });
}

/**
 * Replies in order, one queue per port. In watch mode a reply goes out by non-blocking writes straight from
 * enqueue (no promise, no queue entry, when the driver takes it all); what it does not take waits, and an
 * EAGAIN (no host, or a host not reading) is retried with a doubling delay, or at the next readiness event.
 * In polling mode writes go one at a time through the pool. Bounded: past maxQueuedBytes (replies of a host
 * that does not read, or of one that left) a new reply is dropped with a warning.
 */
export class WriteQueue {
  private queue: QueuedWrite[] = [];
  private queuedBytes = 0;
  /** Polling mode: a pooled write is under way (its entry is the head of the queue). */
  private writing = false;
  private timer: NodeJS.Timeout | undefined;
  private retryMs = 0;
  private readonly maxQueuedBytes: number;

  constructor(
    private readonly target: WriteTarget,
    private readonly rd: FdReadiness | undefined,
    private readonly write: (
      fd: number,
      data: Buffer,
      offset: number,
      length: number,
      done: (err: Error | null, n: number) => void,
    ) => void,
    private readonly log: TransportLog,
    maxQueuedBytes: number | undefined,
  ) {
    this.maxQueuedBytes = maxQueuedBytes ?? DEFAULT_MAX_QUEUED_REPLY_BYTES;
  }

  /** Undefined when the reply is already written (or dropped); else a promise for when it is. */
  enqueue(conn: SerialConnection, data: Buffer): Promise<void> | undefined {
    if (conn.closed || this.target.stopped) {
      this.log.debug({ conn: conn.id, bytes: data.length }, 'reply dropped: host gone');
      return undefined;
    }
    if (this.queuedBytes > 0 && this.queuedBytes + data.length > this.maxQueuedBytes) {
      this.log.warn({ conn: conn.id, bytes: data.length, queued: this.queuedBytes }, 'reply dropped: the host is not reading');
      return undefined;
    }
    // Watch mode with nothing queued (the usual case): write right here, no promise, no queue entry.
    const offset = this.target.watching && this.queue.length === 0 ? this.writeNow(conn, data) : 0;
    if (offset === data.length) return undefined;
    return this.queued(conn, data, offset);
  }

  /**
   * Queues the rest of a reply; resolves once written. Its own function: the closure would otherwise make
   * every enqueue() allocate a context, the replies written at once included.
   */
  private queued(conn: SerialConnection, data: Buffer, offset: number): Promise<void> {
    return new Promise((resolve) => {
      this.queue.push({ conn, data, offset, resolve });
      this.queuedBytes += data.length;
      // Behind a write that is waiting for the host, the retry timer carries on.
      if (!this.timer) this.pump();
    });
  }

  /** The port is ready (readiness event: data, or a host attached): a write waiting for the host goes now. */
  ready(): void {
    if (!this.timer) return;
    clearTimeout(this.timer);
    this.timer = undefined;
    this.pump();
  }

  /** Drops the queued replies of a conversation that ended (the head stays if the pool is writing it). */
  dropFor(conn: SerialConnection, reason: string): void {
    const keep = this.writing ? this.queue[0] : undefined;
    const dropped = this.queue.filter((w) => w.conn === conn && w !== keep);
    if (dropped.length === 0) return;
    this.log.warn(
      { conn: conn.id, replies: dropped.length, bytes: dropped.reduce((s, w) => s + w.data.length, 0), reason },
      'replies dropped: host gone',
    );
    for (const w of dropped) this.finish(w);
  }

  /** The port closes: everything queued is dropped, the retry timer stopped. */
  clear(): void {
    this.stopTimer();
    for (const w of [...this.queue]) this.finish(w);
  }

  stopTimer(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
  }

  private pump(): void {
    if (this.target.watching) this.pumpSync();
    else this.pumpPooled();
  }

  /** Watch mode: writes as much as the driver takes now; returns how far it got (all of it when the write failed: dropped). */
  private writeNow(conn: SerialConnection, data: Buffer): number {
    const fd = this.target.fd;
    const rd = this.rd as FdReadiness;
    if (fd === undefined) return 0;
    let offset = 0;
    while (offset < data.length) {
      const n = rd.write(fd, data, offset, Math.min(WRITE_CHUNK, data.length - offset));
      if (n < 0) {
        if (n === -EAGAIN) return offset;
        this.log.warn({ conn: conn.id, err: String(errnoError(n, 'write')) }, 'write failed; reply dropped');
        return data.length;
      }
      offset += n;
      this.retryMs = 0;
    }
    return offset;
  }

  /** Watch mode: non-blocking writes straight from the queue; EAGAIN retries with a doubling delay. */
  private pumpSync(): void {
    const fd = this.target.fd;
    const rd = this.rd as FdReadiness;
    for (let w = this.queue[0]; w; w = this.queue[0]) {
      if (w.conn.closed || fd === undefined || this.target.stopped) {
        this.finish(w);
        continue;
      }
      const written = rd.write(fd, w.data, w.offset, Math.min(WRITE_CHUNK, w.data.length - w.offset));
      if (written < 0) {
        if (written === -EAGAIN) return this.retryLater();
        this.log.warn({ conn: w.conn.id, err: String(errnoError(written, 'write')) }, 'write failed; reply dropped');
        this.finish(w);
        continue;
      }
      this.retryMs = 0;
      w.offset += written;
      if (w.offset >= w.data.length) this.finish(w);
    }
  }

  private retryLater(): void {
    if (this.timer) return;
    this.retryMs = Math.min(WRITE_RETRY_MAX_MS, Math.max(WRITE_RETRY_MIN_MS, this.retryMs * 2));
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.pump();
    }, this.retryMs);
  }

  /** Polling mode: pooled writes, one at a time. */
  private pumpPooled(): void {
    if (this.writing) return;
    const w = this.queue[0];
    const fd = this.target.fd;
    if (!w) return;
    if (w.conn.closed || fd === undefined || this.target.stopped) {
      this.finish(w);
      return this.pumpPooled();
    }
    this.writing = true;
    this.write(fd, w.data, w.offset, Math.min(WRITE_CHUNK, w.data.length - w.offset), (err, written) => {
      this.writing = false;
      if (err) {
        this.log.warn({ conn: w.conn.id, err: err.message }, 'write failed; reply dropped');
        this.finish(w);
      } else {
        w.offset += written;
        if (w.offset >= w.data.length) this.finish(w);
      }
      this.pump();
    });
  }

  private finish(w: QueuedWrite): void {
    const i = this.queue.indexOf(w);
    if (i >= 0) this.queue.splice(i, 1);
    this.queuedBytes -= w.data.length;
    w.resolve();
  }
}
