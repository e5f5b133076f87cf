// virtio-port: qemu-ga -m virtio-serial on /dev/virtio-ports/org.qemu.guest_agent.0: the fd, the host
// conversation and its flow control. Reading is one of two modes, virtio-watch.ts (the native addon's
// readiness watch) or virtio-poll.ts (without it); replies go out through write-queue.ts. How the driver
// behaves and why this design: the comment at the top of serial-port.ts; measurements in docs/transport.md.
import fs from 'node:fs';
import {
  closeFd,
  type FdReadiness,
  openFd,
  PortBase,
  type SerialConnection,
  type SerialPortOptions,
  type TransportLog,
} from './port-base.js';
import { newConnectionId } from './types.js';
import { IDLE_POLL, PollReader } from './virtio-poll.js';
import { READ_SIZE, type ReadHost } from './virtio-read.js';
import { SAFETY_POLL_MS, WatchReader } from './virtio-watch.js';
import { WriteQueue } from './write-queue.js';

export { IDLE_POLL } from './virtio-poll.js';
export { HOST_GONE_CONFIRM_MS } from './virtio-read.js';
export { SAFETY_POLL_MS } from './virtio-watch.js';

/**
 * Bytes a paused conversation may read ahead (and hold) before the port is not read at all. Reading on for a
 * while keeps a departing host noticed (read() returns 0 only once the queue is empty): a host that sent a
 * burst and left (test/e2e: 100 KB of requests, never reading) ends its conversation as before, and its
 * stale replies do not go to the next host. Beyond it the host's bytes wait in the virtqueue and in QEMU.
 */
export const PAUSED_READ_LIMIT = 256 << 10;

/**
 * virtio-serial: one fd. With the readiness watch (the native addon): non-blocking, the kernel wakes the
 * event loop, reads and writes synchronous on it. Without: blocking, one pooled read at a time, backoff
 * while no host is attached.
 */
export class VirtioPort extends PortBase {
  private fd: number | undefined;
  /** Watch mode (the fd is non-blocking and watched), else polling mode. */
  private watching = false;
  private readonly buf = Buffer.allocUnsafe(READ_SIZE);
  private readonly writes: WriteQueue;
  private readonly watch: WatchReader | undefined;
  private readonly poll: PollReader;

  constructor(path: string, opts: SerialPortOptions, log: TransportLog) {
    super(path, opts, log);
    const idle = opts.idlePoll ?? IDLE_POLL;
    const rd: FdReadiness | undefined = opts.readiness;
    const port = this;
    const host: ReadHost = {
      path,
      log,
      get fd() {
        return port.fd;
      },
      get stopped() {
        return port.stopped;
      },
      buf: this.buf,
      get conn() {
        return port.conn;
      },
      deliver: (n, before) => this.deliver(n, before),
      holdingEnough: () => this.holdingEnough(),
      endConnection: (reason) => this.endConnection(reason),
      fail: (fd, err) => this.fail(fd, err),
    };
    this.poll = new PollReader(host, idle);
    this.watch = rd && new WatchReader(host, rd, idle, opts.safetyPollMs ?? SAFETY_POLL_MS, () => this.writes.ready());
    this.writes = new WriteQueue(
      {
        get fd() {
          return port.fd;
        },
        get watching() {
          return port.watching;
        },
        get stopped() {
          return port.stopped;
        },
      },
      rd,
      (fd, data, offset, length, done) => fs.write(fd, data, offset, length, null, done),
      log,
      opts.maxQueuedBytes,
    );
  }

  protected async open(): Promise<void> {
    const { O_RDWR, O_NOCTTY } = fs.constants;
    const fd = await openFd(this.path, O_RDWR | O_NOCTTY);
    if (this.stopped) {
      closeFd(fd);
      return;
    }
    this.fd = fd;
    // The watch makes the fd non-blocking; without the addon (or if watching fails) it stays blocking.
    this.watching = this.watch?.start(fd) ?? false;
    if (!this.watching) this.poll.start(fd);
  }

  /** Hands the first n bytes of buf to the handlers (starting a conversation if none is going), or holds them while paused. */
  private deliver(n: number, beforeHandlers?: () => void): void {
    const conn = this.conn ?? this.newConnection();
    conn.goneSince = undefined;
    const hold = conn.paused === true || conn.held !== undefined;
    if (hold) {
      // Held until the conversation resumes: a copy, as the next read reuses buf.
      const chunk = Buffer.allocUnsafe(n);
      this.buf.copy(chunk, 0, 0, n);
      (conn.held ??= []).push(chunk);
      conn.heldBytes = (conn.heldBytes ?? 0) + n;
    }
    beforeHandlers?.();
    // The read buffer itself (the handlers copy what they keep): nothing made per request.
    if (!hold) this.handlers?.data(conn, this.buf, n);
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
      write: (data) => this.writes.enqueue(conn, data),
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
   * Flow control (the agent pauses a conversation while a request is under way and it has bytes it did not
   * read yet). While paused nothing is delivered; the port is read on only up to PAUSED_READ_LIMIT (see
   * there), then not at all. At resume the held chunks go to the handlers in order, stopping as soon as one
   * of them pauses the conversation again; then reading carries on (in watch mode by a drain: the events
   * for what arrived meanwhile were spent).
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
    if (this.watching) this.watch?.drain(fd, false);
    else this.poll.resume(fd);
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
    this.stopReading();
    closeFd(fd);
    this.scheduleReopen();
  }

  protected override dropQueued(conn: SerialConnection, reason: string): void {
    if (conn.held) {
      // Bytes of a host that is gone (or that the agent closed on): dropped; the next host is read again.
      this.log.debug({ conn: conn.id, bytes: conn.heldBytes, reason }, 'held requests dropped: host gone');
      conn.held = undefined;
      conn.heldBytes = 0;
      setImmediate(() => this.continueReading());
    }
    this.writes.dropFor(conn, reason);
  }

  private stopReading(): void {
    this.watch?.stop();
    this.poll.stop();
    this.writes.stopTimer();
  }

  async close(): Promise<void> {
    this.stopped = true;
    this.stopRetry();
    this.stopReading();
    this.endConnection('transport closed');
    this.writes.clear();
    const fd = this.fd;
    this.fd = undefined;
    if (fd === undefined) return;
    // Watch mode: nothing of ours is in the pool, close now (the kernel drops the epoll entry with the
    // file). Polling mode: a read blocked in the kernel keeps the file until it returns; close() does
    // not wait for it.
    if (this.watching) fs.closeSync(fd);
    else closeFd(fd);
  }
}
