// port-base: what the two serial port kinds share (options, the open/retry cycle, the current conversation).
import fs from 'node:fs';
import type { Connection, ConnectionHandlers, TransportLog } from './types.js';

export type { TransportLog } from './types.js';

/** How often to look for a host while none is attached: from minMs doubling to burstMaxMs for burstMs after the last host left, then maxMs. */
export interface IdlePoll {
  minMs: number;
  burstMaxMs: number;
  burstMs: number;
  maxMs: number;
}

/**
 * Signal-free readiness for a character device (the native addon: native/readiness.c fdWatch, fdUnwatch,
 * fdRead, fdWrite). read and write return bytes or -errno and never throw for the syscall: a non-blocking
 * drain ends in EAGAIN every time, and an exception per request is what this avoids.
 */
export interface FdReadiness {
  /** Makes fd non-blocking and calls onReady on the event loop after each edge (data in, peer came or went). */
  watch(fd: number, onReady: () => void): unknown;
  unwatch(token: unknown): void;
  read(fd: number, buf: Buffer): number;
  write(fd: number, buf: Buffer, offset: number, length: number): number;
}

export interface SerialPortOptions {
  kind: 'virtio-serial' | 'isa-serial';
  /** Keep trying to open the device every second while it is missing or failing (qemu-ga -r). */
  retry: boolean;
  log?: TransportLog;
  /** Replies queued but not yet written; beyond it new replies are dropped. Default DEFAULT_MAX_QUEUED_REPLY_BYTES. */
  maxQueuedBytes?: number;
  /** Sleep between reads while no host is attached (virtio-serial without setAsync); see IDLE_POLL. */
  idlePoll?: IdlePoll;
  /** Milliseconds between open attempts when retrying. Default 1000 (qemu-ga -r waits a second). */
  retryIntervalMs?: number;
  /**
   * virtio-serial: watch the fd for readiness instead of polling it (the native addon's fdWatch and friends,
   * see FdReadiness). A watch() that throws leaves the port polling as without it.
   */
  readiness?: FdReadiness;
  /** virtio-serial with readiness: milliseconds between reads nobody announced (a missed event). Default SAFETY_POLL_MS. */
  safetyPollMs?: number;
}

export interface SerialConnection extends Connection {
  closed: boolean;
  /** When read() first returned 0 in a row of zeros (virtio-serial); undefined while the host is there. */
  goneSince?: number | undefined;
  /** pause() was called and resume() not yet (flow control: a request is under way and bytes wait, src/agent/serve.ts). */
  paused?: boolean;
  /** Chunks read while paused, handed on at resume() (virtio-serial; bounded by PAUSED_READ_LIMIT). */
  held?: Buffer[] | undefined;
  heldBytes?: number;
}

/** Shared by both kinds: the open/retry cycle and the current connection. */
export abstract class PortBase {
  protected handlers: ConnectionHandlers | undefined;
  protected conn: SerialConnection | undefined;
  protected stopped = false;
  private retryTimer: NodeJS.Timeout | undefined;

  constructor(
    protected readonly path: string,
    protected readonly opts: SerialPortOptions,
    protected readonly log: TransportLog,
  ) {}

  protected abstract open(): Promise<void>;
  abstract close(): Promise<void>;

  /** Opens the device; throws the open error unless retry is on (then it keeps trying quietly). */
  async start(h: ConnectionHandlers, retry: boolean, onOpenError: (err: unknown) => Error): Promise<void> {
    this.handlers = h;
    try {
      await this.open();
    } catch (err) {
      if (!retry) throw onOpenError(err);
      this.log.warn({ path: this.path, err: String(err) }, 'cannot open the channel yet; retrying every second');
      this.scheduleReopen();
    }
  }

  /** After an open failure (retry mode) or a device error: try again later, quietly. */
  protected scheduleReopen(): void {
    if (this.stopped || this.retryTimer) return;
    this.retryTimer = setTimeout(() => {
      this.retryTimer = undefined;
      if (this.stopped) return;
      this.open().then(
        () => this.log.info({ path: this.path }, 'channel opened'),
        () => this.scheduleReopen(),
      );
    }, this.opts.retryIntervalMs ?? 1000);
  }

  protected stopRetry(): void {
    clearTimeout(this.retryTimer);
    this.retryTimer = undefined;
  }

  /** Ends the current conversation: handlers hear closed(conn); its unsent replies are dropped. */
  protected endConnection(reason: string): void {
    const conn = this.conn;
    if (!conn) return;
    this.conn = undefined;
    conn.closed = true;
    this.dropQueued(conn, reason);
    this.log.debug({ conn: conn.id, reason }, 'host conversation ended');
    this.handlers?.closed(conn);
  }

  protected dropQueued(_conn: SerialConnection, _reason: string): void {}
}

/** fs.open as a promise (the pool: opening a device can sleep). */
export function openFd(path: string, flags: number): Promise<number> {
  return new Promise((resolve, reject) => fs.open(path, flags, (err, fd) => (err ? reject(err) : resolve(fd))));
}

/** Closes without waiting; errors do not matter any more. */
export function closeFd(fd: number): void {
  fs.close(fd, () => {});
}
