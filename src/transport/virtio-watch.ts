// The virtio-serial port's watch mode: the fd non-blocking and watched for readiness by the native addon
// (edge-triggered epoll), drained with non-blocking reads on each event, and a safety read now and then.
import os from 'node:os';
import type { FdReadiness, IdlePoll } from './port-base.js';
import { HOST_GONE_CONFIRM_MS, type ReadHost } from './virtio-read.js';
import { errnoError } from './write-queue.js';

/** A read nobody asked for, every so often, in case an event was ever lost. */
export const SAFETY_POLL_MS = 2000;
/** Safety polls in a row that found unannounced data, after which the port polls every IdlePoll.maxMs. */
const MAX_MISSES = 3;
/** Reads per drain before yielding to the event loop (a host that never stops sending). */
const READS_PER_DRAIN = 16;
const EAGAIN = os.constants.errno.EAGAIN;

/** Reads the port when the kernel says so. One per port: what it learnt about missed events outlives a reopen. */
export class WatchReader {
  private misses = 0;
  private token: unknown;
  private safetyTimer: NodeJS.Timeout | undefined;
  private confirmTimer: NodeJS.Timeout | undefined;
  /** The fd being watched. */
  private fd: number | undefined;

  constructor(
    private readonly host: ReadHost,
    private readonly rd: FdReadiness,
    private readonly idle: IdlePoll,
    private readonly safetyPollMs: number,
    /** Also called on each readiness event (the write queue retries then). */
    private readonly onEvent: () => void,
  ) {}

  /** Watches fd (non-blocking from then on) and reads what is there; false when the addon cannot (the port then polls). */
  start(fd: number): boolean {
    try {
      this.token = this.rd.watch(fd, () => {
        if (this.fd !== fd || this.host.fd !== fd) return;
        this.drain(fd, false);
        this.onEvent();
      });
    } catch (err) {
      this.host.log.warn({ path: this.host.path, err: String(err) }, 'no readiness watch for the channel; polling instead');
      return false;
    }
    this.fd = fd;
    this.startSafetyPoll(fd, this.misses >= MAX_MISSES ? this.idle.maxMs : this.safetyPollMs);
    this.drain(fd, false);
    return true;
  }

  /** Stops watching and its timers (the port closes). */
  stop(): void {
    clearInterval(this.safetyTimer);
    clearTimeout(this.confirmTimer);
    this.safetyTimer = this.confirmTimer = undefined;
    this.fd = undefined;
    if (this.token === undefined) return;
    this.rd.unwatch(this.token);
    this.token = undefined;
  }

  /**
   * Reads until the driver says there is nothing more: EAGAIN (a host is attached, no data) or 0 (no host).
   * The watch is edge-triggered: what is not read now is announced again only by the next event.
   * fromSafetyPoll: nobody announced it, so anything found means an event went missing.
   */
  drain(fd: number, fromSafetyPoll: boolean): void {
    const host = this.host;
    for (let i = 0; i < READS_PER_DRAIN; i++) {
      if (host.stopped || host.fd !== fd || host.holdingEnough()) return;
      const n = this.rd.read(fd, host.buf);
      if (n < 0) {
        if (n === -EAGAIN) {
          // A host is attached; a conversation that looked over is not.
          if (host.conn) host.conn.goneSince = undefined;
          return;
        }
        return host.fail(fd, errnoError(n, 'read'));
      }
      if (n === 0) return this.noHost(fd);
      if (fromSafetyPoll && i === 0) this.missed(fd);
      else if (!fromSafetyPoll && this.misses < MAX_MISSES) this.misses = 0;
      host.deliver(n);
    }
    this.drainLater(fd);
  }

  /** Yields, then drains on (its own function: a closure in drain() would make every drain allocate a context). */
  private drainLater(fd: number): void {
    setImmediate(() => this.drain(fd, false));
  }

  /** read() returned 0: no host. End the conversation once that has lasted HOST_GONE_CONFIRM_MS. */
  private noHost(fd: number): void {
    const conn = this.host.conn;
    if (!conn) return;
    const now = performance.now();
    conn.goneSince ??= now;
    const left = HOST_GONE_CONFIRM_MS - (now - conn.goneSince);
    if (left <= 0) return this.host.endConnection('host disconnected');
    if (this.confirmTimer) return;
    this.confirmTimer = setTimeout(() => {
      this.confirmTimer = undefined;
      if (this.fd === fd) this.drain(fd, false);
    }, left + 1);
  }

  /**
   * The safety poll found data no event announced. A driver that never wakes its wait queue for input would
   * do that every time (none known; belt and braces); announced reads reset the count.
   */
  private missed(fd: number): void {
    if (this.misses >= MAX_MISSES) return;
    this.misses++;
    this.host.log.debug({ path: this.host.path, misses: this.misses }, 'data arrived without a readiness event');
    if (this.misses !== MAX_MISSES) return;
    this.host.log.warn({ path: this.host.path, everyMs: this.idle.maxMs }, 'no readiness events for input on this channel; polling it');
    this.startSafetyPoll(fd, this.idle.maxMs);
  }

  private startSafetyPoll(fd: number, everyMs: number): void {
    clearInterval(this.safetyTimer);
    // Timers run before the event loop polls for I/O: read from setImmediate, after a pending event's
    // drain, so an event that was on its way does not count as missed.
    this.safetyTimer = setInterval(() => {
      setImmediate(() => {
        if (this.fd === fd) this.drain(fd, true);
      });
    }, everyMs);
  }
}
