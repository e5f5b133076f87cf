// The virtio-serial port's polling mode, without the native addon: one blocking fd, one fs.read in flight on
// the pool, and a short backoff while no host is attached (read() then returns 0 at once).
import fs from 'node:fs';
import type { IdlePoll } from './port-base.js';
import { HOST_GONE_CONFIRM_MS, READ_SIZE, type ReadHost } from './virtio-read.js';

/** Default idle polling, chosen by the VM measurements: hosts that reconnect soon (Proxmox opens a connection per batch) get ~5 ms, others ~25 ms. */
export const IDLE_POLL: IdlePoll = { minMs: 1, burstMaxMs: 8, burstMs: 2000, maxMs: 50 };

/** Reads the port in a loop on the pool. */
export class PollReader {
  private timer: NodeJS.Timeout | undefined;
  private delay = 0;
  private since = 0;
  /** The loop stopped because a paused conversation holds enough (resume() restarts it). */
  private stopped = false;

  constructor(
    private readonly host: ReadHost,
    private readonly idle: IdlePoll,
  ) {}

  start(fd: number): void {
    this.delay = 0;
    this.stopped = false;
    this.read(fd);
  }

  /** Reads again if the loop stopped while a paused conversation held its chunks. */
  resume(fd: number): void {
    if (!this.stopped) return;
    this.stopped = false;
    this.read(fd);
  }

  stop(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
  }

  private nextDelay(): number {
    const now = performance.now();
    if (this.delay === 0) {
      this.since = now;
      return this.idle.minMs;
    }
    const cap = now - this.since < this.idle.burstMs ? this.idle.burstMaxMs : this.idle.maxMs;
    return Math.min(cap, this.delay * 2);
  }

  private read(fd: number): void {
    const host = this.host;
    fs.read(fd, host.buf, 0, READ_SIZE, null, (err, n) => {
      if (host.stopped || host.fd !== fd) return;
      if (err) return host.fail(fd, err);
      if (n === 0) {
        // No host attached (or it just left). The driver's "host closed" notice travels on the control
        // queue and may arrive after the next host's first bytes (seen in the VM soak: the reply to that
        // request was dropped), so the conversation ends only once read() has kept returning 0 for
        // HOST_GONE_CONFIRM_MS; a read that returns data or blocks in between means a host is there.
        const conn = host.conn;
        const now = performance.now();
        if (conn) {
          conn.goneSince ??= now;
          if (now - conn.goneSince >= HOST_GONE_CONFIRM_MS) host.endConnection('host disconnected');
        }
        this.delay = this.nextDelay();
        this.timer = setTimeout(() => {
          this.timer = undefined;
          if (!host.stopped && host.fd === fd) this.read(fd);
        }, this.delay);
        return;
      }
      this.delay = 0;
      // The next read goes out before the handlers run (it waits in the pool meanwhile), except when a
      // paused conversation holds PAUSED_READ_LIMIT already: then the port is not read until resume().
      host.deliver(n, () => {
        if (host.holdingEnough()) this.stopped = true;
        else this.read(fd);
      });
    });
  }
}
