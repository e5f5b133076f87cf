// The system clock for generic Linux: guest-get-time and guest-set-time as qemu-ga 7.2 does them.
// now() is CLOCK_REALTIME in ns (native addon; without it Date.now refined by performance.now, µs
// resolution like qemu-ga's g_get_real_time()*1000). set(ns) is clock_settime then `hwclock -w`;
// set() is `hwclock -s`. hwclock is spawned without a shell; failures read like qemu-ga's.
// `performance` is Node's global, which loads perf_hooks' code at its first use, not at start-up.
import { accessSync, constants } from 'node:fs';
import { type GuestlinkNative, loadNative } from '../../native/addon.js';
import { strerror } from '../../protocol/qga/errno-text.js';
import { errors, genericError } from '../../protocol/qga/errors.js';
import type { Clock } from '../interfaces.js';
import { type CommandResult, runCommand } from './run-command.js';

export interface LinuxClockOptions {
  /** The addon (tests pass a fake: never set this machine's clock in a test). `null` forces the fallback. */
  native?: GuestlinkNative | null;
  /** Where hwclock may be; the first executable one is used (qemu-ga uses /sbin/hwclock only). */
  hwclockPaths?: readonly string[];
  /** Runs a program without a shell. */
  run?: (file: string, args: readonly string[]) => Promise<CommandResult>;
}

const HWCLOCK_PATHS = ['/sbin/hwclock', '/usr/sbin/hwclock', '/bin/hwclock', '/usr/bin/hwclock'];
const NS = 1_000_000_000n;
/** qemu-ga accepts years 1970..2069 (g_date_set_time_t check). */
const MAX_NS = BigInt(Date.UTC(2070, 0, 1)) * 1_000_000n;

/** Wall-clock ns without the addon: Date.now(), refined to µs by the monotonic clock when both agree. */
export function fallbackNowNs(): bigint {
  const ms = Date.now();
  const fine = performance.timeOrigin + performance.now();
  // performance.timeOrigin is fixed at start-up: once the wall clock is stepped it no longer agrees.
  if (Math.abs(fine - ms) < 1) return BigInt(Math.floor(fine * 1000)) * 1000n;
  return BigInt(ms) * 1_000_000n;
}

export class LinuxClock implements Clock {
  private readonly native: GuestlinkNative | undefined;
  private readonly hwclockPaths: readonly string[];
  private readonly run: (file: string, args: readonly string[]) => Promise<CommandResult>;

  constructor(opts: LinuxClockOptions = {}) {
    this.native = opts.native === null ? undefined : (opts.native ?? loadNative());
    this.hwclockPaths = opts.hwclockPaths ?? HWCLOCK_PATHS;
    this.run = opts.run ?? ((f, a) => runCommand(f, a, { timeoutMs: 60_000 }));
  }

  now(): bigint {
    if (this.native) {
      try {
        return this.native.clockGetTime();
      } catch {}
    }
    return fallbackNowNs();
  }

  async set(ns?: bigint): Promise<void> {
    const hwclock = this.findHwclock();
    if (ns !== undefined) {
      if (ns < 0n || ns >= MAX_NS) throw genericError('Invalid time', 'BAD_ARGUMENT');
      await this.setSystemClock(ns);
      // qemu-ga refuses the whole command without hwclock; an immutable OS often has none, so the
      // system clock is set and only the RTC sync is skipped.
      if (!hwclock) return;
    } else if (!hwclock) {
      throw errors.unsupported();
    }
    let res: CommandResult;
    try {
      res = await this.run(hwclock, [ns !== undefined ? '-w' : '-s']);
    } catch (err) {
      throw genericError(`failed to create child process: ${strerror(err)}`, 'SPAWN_FAILED');
    }
    if (res.signal) throw genericError('child process has terminated abnormally', 'HWCLOCK_FAILED');
    if (res.code !== 0) throw genericError('hwclock failed to set hardware clock to system time', 'HWCLOCK_FAILED');
  }

  private findHwclock(): string | undefined {
    for (const p of this.hwclockPaths) {
      try {
        accessSync(p, constants.X_OK);
        return p;
      } catch {}
    }
    return undefined;
  }

  private async setSystemClock(ns: bigint): Promise<void> {
    const sec = ns / NS;
    const nsec = Number(ns % NS);
    if (this.native) {
      try {
        this.native.clockSetTime(sec, nsec);
        return;
      } catch (err) {
        throw genericError(`Failed to set time to guest: ${(err as Error).message}`, 'SET_TIME_FAILED');
      }
    }
    // No addon: date(1) from coreutils or busybox, "@<seconds>.<fraction>".
    const date = ['/bin/date', '/usr/bin/date'].find((p) => {
      try {
        accessSync(p, constants.X_OK);
        return true;
      } catch {
        return false;
      }
    });
    if (!date) throw genericError('Failed to set time to guest: no native addon and no date(1)', 'UNSUPPORTED');
    let res: CommandResult;
    try {
      res = await this.run(date, ['-u', '-s', `@${sec}.${String(nsec).padStart(9, '0')}`]);
    } catch (err) {
      throw genericError(`Failed to set time to guest: ${strerror(err)}`, 'SET_TIME_FAILED');
    }
    if (res.code !== 0) {
      const why = res.stderr.trim().split('\n').pop() || `date exited with status ${res.code}`;
      throw genericError(`Failed to set time to guest: ${why}`, 'SET_TIME_FAILED');
    }
  }
}
