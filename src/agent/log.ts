// pino writing JSON lines to stderr (or -l FILE) synchronously, through the agent's own line writer
// (log-writer.ts): no worker-thread transports, which single-executable bundles cannot carry. While
// filesystems are frozen, lines are held in memory and written after the thaw: a write to a frozen
// filesystem would block the agent, and then neither the host's thaw nor the watchdog could run
// (qemu-ga turns logging off instead; audit records must not be lost, so guestlink keeps them, up to
// a bound).
import pino, { type DestinationStream, type Logger } from 'pino';
import { SyncLineWriter } from './log-writer.js';

/** Lines kept while frozen; beyond this the oldest are dropped and counted. */
export const FROZEN_LOG_LIMIT = 10_000;

/** A pino destination that holds lines while `isFrozen()` says so and flushes them on the next write after. */
export class FreezeAwareDestination implements DestinationStream {
  private held: string[] = [];
  private dropped = 0;

  constructor(
    private readonly target: DestinationStream,
    private readonly isFrozen: () => boolean,
  ) {}

  write(line: string): void {
    if (this.isFrozen()) {
      if (this.held.length >= FROZEN_LOG_LIMIT) {
        this.held.shift();
        this.dropped++;
      }
      this.held.push(line);
      return;
    }
    this.flush();
    this.target.write(line);
  }

  /** Writes what was held while frozen. */
  flush(): void {
    if (this.held.length === 0) return;
    if (this.dropped > 0) {
      this.target.write(`${JSON.stringify({ level: 40, time: Date.now(), msg: `${this.dropped} log lines dropped while frozen` })}\n`);
      this.dropped = 0;
    }
    for (const l of this.held) this.target.write(l);
    this.held = [];
  }
}

export function createLogger(opts: { verbose: boolean; logfile?: string; isFrozen?: () => boolean }): {
  log: Logger;
  destination: FreezeAwareDestination;
} {
  const target = opts.logfile ? SyncLineWriter.open(opts.logfile) : new SyncLineWriter(2);
  const destination = new FreezeAwareDestination(target, opts.isFrozen ?? (() => false));
  const log = pino({ name: 'guestlink-agent', level: opts.verbose ? 'debug' : 'info', base: { pid: process.pid } }, destination);
  return { log, destination };
}
