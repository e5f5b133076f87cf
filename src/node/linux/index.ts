// The generic Linux back end: /proc, /sys, os-release, utmp, statfs and ioctls.
import { loadNative } from '../../native/addon.js';
import { createFileAccess } from '../files/file-access.js';
import type { FileAccess, NodeBackend, Power } from '../interfaces.js';
import { LinuxAccounts } from './accounts.js';
import { LinuxClock } from './clock.js';
import { LinuxHardware } from './hardware.js';
import { LinuxNetwork } from './network.js';
import { LinuxStorage } from './storage.js';
import { LinuxSystemInfo } from './system.js';

export interface LinuxBackendOptions {
  power: Power;
  /** Root of /proc, /sys and /etc to read (tests point it at fixtures); default '/'. */
  root?: string;
  /** The TZ environment variable, as qemu-ga honours it for guest-get-timezone. */
  tz?: string;
  /** QGA_OS_RELEASE: the os-release file to report instead of the system's. */
  osReleasePath?: string;
  /** guest-file-*'s opener (tests); default the shared one, through the native addon when built. */
  files?: FileAccess;
}

export function createLinuxBackend(opts: LinuxBackendOptions): NodeBackend {
  const root = opts.root ?? '/';
  return {
    name: 'linux',
    system: new LinuxSystemInfo(root, {
      ...(opts.tz === undefined ? {} : { tz: opts.tz }),
      ...(opts.osReleasePath === undefined ? {} : { osReleasePath: opts.osReleasePath }),
    }),
    hardware: new LinuxHardware(root),
    network: new LinuxNetwork(root),
    clock: new LinuxClock(),
    storage: new LinuxStorage(root),
    power: opts.power,
    accounts: new LinuxAccounts(root),
    files: opts.files ?? createFileAccess({ native: loadNative() }),
    // Windows-only in qemu-ga too.
    unsupportedCommands: ['guest-get-devices'],
  };
}
