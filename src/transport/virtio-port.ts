// virtio-port: qemu-ga -m virtio-serial on /dev/virtio-ports/org.qemu.guest_agent.0. Design and measurements:
// the comment at the top of serial-port.ts.
import fs from 'node:fs';
import os from 'node:os';
import { getSystemErrorName } from 'node:util';
import {
  closeFd,
  type FdReadiness,
  type IdlePoll,
  openFd,
  PortBase,
  type SerialConnection,
  type SerialPortOptions,
  type TransportLog,
} from './port-base.js';
import { newConnectionId } from './types.js';

/** Default idle polling without the readiness watch, chosen by the VM measurements: hosts that reconnect soon (Proxmox opens a connection per batch) get ~5 ms, others ~25 ms. */
export const IDLE_POLL: IdlePoll = { minMs: 1, burstMaxMs: 8, burstMs: 2000, maxMs: 50 };
/** How long read() must keep returning 0 before a virtio-serial conversation counts as ended. */
export const HOST_GONE_CONFIRM_MS = 100;
/** With the readiness watch: a read nobody asked for, every so often, in case an event was ever lost. */
export const SAFETY_POLL_MS = 2000;
/** Safety polls in a row that found unannounced data, after which the port polls every IdlePoll.maxMs. */
const MAX_MISSES = 3;
const EAGAIN = os.constants.errno.EAGAIN;
const READ_SIZE = 64 << 10;
// The virtio_console driver copies at most 32 KiB per write(); bigger writes return short.
const WRITE_CHUNK = 32 << 10;
/**
 * Bytes a paused conversation may read ahead (and hold) before the port is not read at all. Reading on for a
 * while keeps a departing host noticed (read() returns 0 only once the queue is empty): a host that sent a
 * burst and left (test/e2e: 100 KB of requests, never reading) ends its conversation as before, and its
 * stale replies do not go to the next host. Beyond it the host's bytes wait in the virtqueue and in QEMU.
 */
export const PAUSED_READ_LIMIT = 256 << 10;
/** Reads per drain before yielding to the event loop (a host that never stops sending). */
const READS_PER_DRAIN = 16;
/** Retry delays for a non-blocking write that got EAGAIN (no host, or a host that does not read): doubling. */
const WRITE_RETRY_MIN_MS = 1;
const WRITE_RETRY_MAX_MS = 50;

interface QueuedWrite {
  conn: SerialConnection;
  data: Buffer;
  offset: number;
  resolve: () => void;
}

/** An Error shaped like Node's own for a failed syscall (code, errno, syscall) from the addon's -errno. */
function errnoError(negErrno: number, syscall: string): NodeJS.ErrnoException {
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
 * virtio-serial: one fd. With the readiness watch (the native addon): non-blocking, the kernel wakes the
 * event loop, reads and writes synchronous on it. Without: blocking, one pooled read at a time, backoff
 * while no host is attached.
 */
export class VirtioPort extends PortBase {
  private fd: number | undefined;
  /** Watch mode: the fd is non-blocking and watched (this.rd is set); else polling mode. */
  private watching = false;
  private watchToken: unknown;
  private misses = 0;
  private readonly buf = Buffer.allocUnsafe(READ_SIZE);
  private idleTimer: NodeJS.Timeout | undefined;
  private idleDelay = 0;
  private idleSince = 0;
  private safetyTimer: NodeJS.Timeout | undefined;
  private confirmTimer: NodeJS.Timeout | undefined;
  private writeTimer: NodeJS.Timeout | undefined;
  private writeRetryMs = 0;
  private queue: QueuedWrite[] = [];
  private queuedBytes = 0;
  private writing = false;
  /** Polling mode: the read loop stopped because a paused conversation holds a chunk (resumeReading restarts it). */
  private readStopped = false;
  private readonly idle: IdlePoll;
  private readonly rd: FdReadiness | undefined;
  private readonly onReady = () => {
    const fd = this.fd;
    if (!this.watching || fd === undefined) return;
    this.drain(fd, false);
    // A write waiting for the host: the driver also wakes us when the host attaches (PORT_OPEN), which is
    // when writes that got EAGAIN can go (a reply to a host that reconnected before its PORT_OPEN arrived).
    if (this.writeTimer) {
      clearTimeout(this.writeTimer);
      this.writeTimer = undefined;
      this.pump();
    }
  };

  constructor(path: string, opts: SerialPortOptions, log: TransportLog) {
    super(path, opts, log);
    this.idle = opts.idlePoll ?? IDLE_POLL;
    this.rd = opts.readiness;
  }

  protected async open(): Promise<void> {
    const { O_RDWR, O_NOCTTY } = fs.constants;
    const fd = await openFd(this.path, O_RDWR | O_NOCTTY);
    if (this.stopped) {
      closeFd(fd);
      return;
    }
    this.fd = fd;
    this.idleDelay = 0;
    this.readStopped = false;
    this.watching = this.startWatch(fd);
    if (!this.watching) return this.read(fd);
    const untrusted = this.misses >= MAX_MISSES;
    this.startSafetyPoll(fd, untrusted ? this.idle.maxMs : (this.opts.safetyPollMs ?? SAFETY_POLL_MS));
    this.drain(fd, false);
  }

  /** Watches the fd (non-blocking from then on) when the agent gave us the means; false leaves it blocking. */
  private startWatch(fd: number): boolean {
    const rd = this.rd;
    if (!rd) return false;
    try {
      this.watchToken = rd.watch(fd, this.onReady);
      return true;
    } catch (err) {
      this.log.warn({ path: this.path, err: String(err) }, 'no readiness watch for the channel; polling instead');
      return false;
    }
  }

  private stopWatch(): void {
    if (this.watchToken === undefined) return;
    this.rd?.unwatch(this.watchToken);
    this.watchToken = undefined;
  }

  // ---- watch mode ------------------------------------------------------------------------------

  /**
   * Reads until the driver says there is nothing more: EAGAIN (a host is attached, no data) or 0 (no host).
   * The watch is edge-triggered: what is not read now is announced again only by the next event.
   * fromSafetyPoll: nobody announced it, so anything found means an event went missing.
   */
  private drain(fd: number, fromSafetyPoll: boolean): void {
    const rd = this.rd as FdReadiness;
    for (let i = 0; i < READS_PER_DRAIN; i++) {
      if (this.stopped || this.fd !== fd || this.holdingEnough()) return;
      const n = rd.read(fd, this.buf);
      if (n < 0) {
        if (n === -EAGAIN) {
          // A host is attached; a conversation that looked over is not.
          if (this.conn) this.conn.goneSince = undefined;
          return;
        }
        return this.fail(fd, errnoError(n, 'read'));
      }
      if (n === 0) return this.noHost(fd);
      if (fromSafetyPoll && i === 0) this.missed(fd);
      else if (!fromSafetyPoll && this.misses < MAX_MISSES) this.misses = 0;
      this.deliver(n);
    }
    setImmediate(() => this.drain(fd, false));
  }

  /** read() returned 0: no host. End the conversation once that has lasted HOST_GONE_CONFIRM_MS. */
  private noHost(fd: number): void {
    const conn = this.conn;
    if (!conn) return;
    const now = performance.now();
    conn.goneSince ??= now;
    const left = HOST_GONE_CONFIRM_MS - (now - conn.goneSince);
    if (left <= 0) return this.endConnection('host disconnected');
    if (this.confirmTimer) return;
    this.confirmTimer = setTimeout(() => {
      this.confirmTimer = undefined;
      if (this.fd === fd && this.watching) this.drain(fd, false);
    }, left + 1);
  }

  /**
   * The safety poll found data no event announced. A driver that never wakes its wait queue for input would
   * do that every time (none known; belt and braces); announced reads reset the count.
   */
  private missed(fd: number): void {
    if (this.misses >= MAX_MISSES) return;
    this.misses++;
    this.log.debug({ path: this.path, misses: this.misses }, 'data arrived without a readiness event');
    if (this.misses !== MAX_MISSES) return;
    this.log.warn({ path: this.path, everyMs: this.idle.maxMs }, 'no readiness events for input on this channel; polling it');
    this.startSafetyPoll(fd, this.idle.maxMs);
  }

  private startSafetyPoll(fd: number, everyMs: number): void {
    clearInterval(this.safetyTimer);
    // Timers run before the event loop polls for I/O: read from setImmediate, after a pending event's
    // drain, so an event that was on its way does not count as missed.
    this.safetyTimer = setInterval(() => {
      setImmediate(() => {
        if (this.fd === fd && this.watching) this.drain(fd, true);
      });
    }, everyMs);
  }

  /** Non-blocking writes straight from the queue; EAGAIN (no host, or a host not reading) retries with a doubling delay. */
  private pumpSync(): void {
    const fd = this.fd;
    const rd = this.rd as FdReadiness;
    for (let w = this.queue[0]; w; w = this.queue[0]) {
      if (w.conn.closed || fd === undefined || this.stopped) {
        this.finish(w);
        continue;
      }
      const written = rd.write(fd, w.data, w.offset, Math.min(WRITE_CHUNK, w.data.length - w.offset));
      if (written < 0) {
        if (written === -EAGAIN) return this.retryWrite();
        this.log.warn({ conn: w.conn.id, err: String(errnoError(written, 'write')) }, 'write failed; reply dropped');
        this.finish(w);
        continue;
      }
      this.writeRetryMs = 0;
      w.offset += written;
      if (w.offset >= w.data.length) this.finish(w);
    }
  }

  private retryWrite(): void {
    if (this.writeTimer) return;
    this.writeRetryMs = Math.min(WRITE_RETRY_MAX_MS, Math.max(WRITE_RETRY_MIN_MS, this.writeRetryMs * 2));
    this.writeTimer = setTimeout(() => {
      this.writeTimer = undefined;
      this.pump();
    }, this.writeRetryMs);
  }

  // ---- polling mode (no watch) ------------------------------------------------------------------

  private nextIdleDelay(): number {
    const now = performance.now();
    if (this.idleDelay === 0) {
      this.idleSince = now;
      return this.idle.minMs;
    }
    const cap = now - this.idleSince < this.idle.burstMs ? this.idle.burstMaxMs : this.idle.maxMs;
    return Math.min(cap, this.idleDelay * 2);
  }

  private read(fd: number): void {
    fs.read(fd, this.buf, 0, READ_SIZE, null, (err, n) => {
      if (this.stopped || this.fd !== fd) return;
      if (err) return this.fail(fd, err);
      if (n === 0) {
        // No host attached (or it just left). The driver's "host closed" notice travels on the control
        // queue and may arrive after the next host's first bytes (seen in the VM soak: the reply to that
        // request was dropped), so the conversation ends only once read() has kept returning 0 for
        // HOST_GONE_CONFIRM_MS; a read that returns data or blocks in between means a host is there.
        const conn = this.conn;
        const now = performance.now();
        if (conn) {
          conn.goneSince ??= now;
          if (now - conn.goneSince >= HOST_GONE_CONFIRM_MS) this.endConnection('host disconnected');
        }
        this.idleDelay = this.nextIdleDelay();
        this.idleTimer = setTimeout(() => {
          this.idleTimer = undefined;
          if (!this.stopped && this.fd === fd) this.read(fd);
        }, this.idleDelay);
        return;
      }
      this.idleDelay = 0;
      // The next read goes out before the handlers run (it waits in the pool meanwhile), except when a
      // paused conversation holds PAUSED_READ_LIMIT already: then the port is not read until resume().
      this.deliver(n, () => {
        if (this.holdingEnough()) this.readStopped = true;
        else this.read(fd);
      });
    });
  }

  /** Pooled writes, one at a time. */
  private pumpPooled(): void {
    if (this.writing) return;
    const w = this.queue[0];
    const fd = this.fd;
    if (!w) return;
    if (w.conn.closed || fd === undefined || this.stopped) {
      this.finish(w);
      return this.pumpPooled();
    }
    this.writing = true;
    const len = Math.min(WRITE_CHUNK, w.data.length - w.offset);
    fs.write(fd, w.data, w.offset, len, null, (err, written) => {
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

  // ---- both modes ------------------------------------------------------------------------------

  /** Hands the first n bytes of buf to the handlers (starting a conversation if none is going), or holds them while paused. */
  private deliver(n: number, beforeHandlers?: () => void): void {
    const conn = this.conn ?? this.newConnection();
    conn.goneSince = undefined;
    const chunk = Buffer.allocUnsafe(n);
    this.buf.copy(chunk, 0, 0, n);
    const hold = conn.paused === true || conn.held !== undefined;
    if (hold) {
      (conn.held ??= []).push(chunk);
      conn.heldBytes = (conn.heldBytes ?? 0) + n;
    }
    beforeHandlers?.();
    if (!hold) this.handlers?.data(conn, chunk);
  }

  /** A paused conversation has read ahead as far as it may: the port is not read until it resumes. */
  private holdingEnough(): boolean {
    const conn = this.conn;
    return conn?.held !== undefined && (conn.heldBytes ?? 0) >= PAUSED_READ_LIMIT;
  }

  private newConnection(): SerialConnection {
    const conn: SerialConnection = {
      id: newConnectionId(),
      closed: false,
      write: (data) => this.enqueue(conn, data),
      close: () => {
        if (this.conn === conn) this.endConnection('closed by the agent');
      },
      pause: () => {
        conn.paused = true;
      },
      resume: () => {
        if (!conn.paused) return;
        conn.paused = false;
        // Later, not inside the caller's stack: the held chunk may well pause the conversation again.
        setImmediate(() => this.resumeReading(conn));
      },
    };
    this.conn = conn;
    this.handlers?.opened?.(conn);
    return conn;
  }

  /**
   * Flow control (the agent pauses a conversation at MAX_PENDING_REQUESTS unanswered requests). While
   * paused nothing is delivered; the port is read on only up to PAUSED_READ_LIMIT (see there), then not at
   * all. At resume the held chunks go to the handlers in order, one at a time, stopping as soon as one of
   * them pauses the conversation again (so parsed-but-unanswered requests stay at about one chunk's worth);
   * then reading carries on (in watch mode by a drain: the events for what arrived meanwhile were spent).
   */
  private resumeReading(conn: SerialConnection): void {
    while (this.conn === conn && !conn.paused && !this.stopped && conn.held) {
      const chunk = conn.held.shift() as Buffer;
      conn.heldBytes = (conn.heldBytes ?? 0) - chunk.length;
      if (conn.held.length === 0) conn.held = undefined;
      this.handlers?.data(conn, chunk);
    }
    if (this.conn === conn && !this.stopped) this.continueReading();
  }

  /** Reads again after a pause held a chunk (the conversation resumed, or ended while holding it). */
  private continueReading(): void {
    const fd = this.fd;
    if (fd === undefined || this.stopped) return;
    if (this.watching) this.drain(fd, false);
    else if (this.readStopped) {
      this.readStopped = false;
      this.read(fd);
    }
  }

  /**
   * Closes the port as an exiting agent would (the driver tells the host: QEMU's VSERPORT_CHANGE
   * connected=false, which libvirt takes as the end of a guest-shutdown), then reopens it a second later.
   */
  hangUp(): void {
    const fd = this.fd;
    if (fd === undefined || this.stopped) return;
    this.log.info({ path: this.path }, 'leaving the channel before the power action');
    this.closeAndReopen(fd, 'agent hung up');
  }

  /** A device error (ENODEV after hot-unplug, EIO): drop the fd and reopen every second. */
  private fail(fd: number, err: NodeJS.ErrnoException): void {
    this.log.warn({ path: this.path, err: err.message }, 'channel error; reopening');
    this.closeAndReopen(fd, 'channel error');
  }

  /** Ends the conversation, closes the port and tries to open it again every second. */
  private closeAndReopen(fd: number, reason: string): void {
    this.endConnection(reason);
    this.fd = undefined;
    this.stopTimers();
    this.stopWatch();
    closeFd(fd);
    this.scheduleReopen();
  }

  /** Undefined when the reply is already written (or dropped); else a promise for when it is. */
  private enqueue(conn: SerialConnection, data: Buffer): Promise<void> | undefined {
    if (conn.closed || this.stopped) {
      this.log.debug({ conn: conn.id, bytes: data.length }, 'reply dropped: host gone');
      return undefined;
    }
    const max = this.opts.maxQueuedBytes ?? 160 << 20;
    if (this.queuedBytes > 0 && this.queuedBytes + data.length > max) {
      this.log.warn({ conn: conn.id, bytes: data.length, queued: this.queuedBytes }, 'reply dropped: the host is not reading');
      return undefined;
    }
    // Watch mode with nothing queued (the usual case): write right here, no promise, no queue entry.
    const offset = this.watching && this.queue.length === 0 ? this.writeNow(conn, data) : 0;
    if (offset === data.length) return undefined;
    return new Promise((resolve) => {
      this.queue.push({ conn, data, offset, resolve });
      this.queuedBytes += data.length;
      // Behind a write that is waiting for the host, the retry timer carries on.
      if (!this.writeTimer) this.pump();
    });
  }

  /** Watch mode: writes as much as the driver takes now; returns how far it got (all of it when the write failed: dropped). */
  private writeNow(conn: SerialConnection, data: Buffer): number {
    const fd = this.fd;
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
      this.writeRetryMs = 0;
    }
    return offset;
  }

  private pump(): void {
    if (this.watching) this.pumpSync();
    else this.pumpPooled();
  }

  private finish(w: QueuedWrite): void {
    const i = this.queue.indexOf(w);
    if (i >= 0) this.queue.splice(i, 1);
    this.queuedBytes -= w.data.length;
    w.resolve();
  }

  protected override dropQueued(conn: SerialConnection, reason: string): void {
    if (conn.held) {
      // Bytes of a host that is gone (or that the agent closed on): dropped; the next host is read again.
      this.log.debug({ conn: conn.id, bytes: conn.heldBytes, reason }, 'held requests dropped: host gone');
      conn.held = undefined;
      conn.heldBytes = 0;
      setImmediate(() => this.continueReading());
    }
    // The head may be in the pool right now (polling mode); it finishes (or is dropped) in pumpPooled().
    const keep = this.writing ? this.queue[0] : undefined;
    const dropped = this.queue.filter((w) => w.conn === conn && w !== keep);
    if (dropped.length === 0) return;
    this.log.warn(
      { conn: conn.id, replies: dropped.length, bytes: dropped.reduce((s, w) => s + w.data.length, 0), reason },
      'replies dropped: host gone',
    );
    for (const w of dropped) this.finish(w);
  }

  private stopTimers(): void {
    clearTimeout(this.idleTimer);
    clearInterval(this.safetyTimer);
    clearTimeout(this.confirmTimer);
    clearTimeout(this.writeTimer);
    this.idleTimer = this.safetyTimer = this.confirmTimer = this.writeTimer = undefined;
  }

  async close(): Promise<void> {
    this.stopped = true;
    this.stopRetry();
    this.stopTimers();
    this.endConnection('transport closed');
    for (const w of [...this.queue]) this.finish(w);
    const fd = this.fd;
    this.fd = undefined;
    this.stopWatch();
    if (fd === undefined) return;
    // Watch mode: nothing of ours is in the pool, close now (the kernel drops the epoll entry with the
    // file). Polling mode: a read blocked in the kernel keeps the file until it returns; close() does
    // not wait for it.
    if (this.watching) fs.closeSync(fd);
    else closeFd(fd);
  }
}
