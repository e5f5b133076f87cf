// pino writing JSON lines to stderr (or -l FILE) synchronously: no worker-thread transports,
// which single-executable bundles cannot carry.
import pino, { type Logger } from 'pino';

export function createLogger(opts: { verbose: boolean; logfile?: string }): Logger {
  const dest = opts.logfile ? pino.destination({ dest: opts.logfile, sync: true, mkdir: true }) : pino.destination({ fd: 2, sync: true });
  return pino({ name: 'guestlink-agent', level: opts.verbose ? 'debug' : 'info', base: { pid: process.pid } }, dest);
}
