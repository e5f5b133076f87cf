// Lazy loader for guestlink's optional native addon (native/guestlink.c, built by node-gyp from
// binding.gyp): FIFREEZE/FITHAW/FITRIM, clock_gettime/clock_settime, reboot(2) and SIGIO ownership of an
// fd (for the virtio-serial transport). Absent addon
// means undefined, and callers fall back to util-linux tools.
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** What the addon exports. Failures throw an Error with message strerror(errno) and code the errno name. */
export interface GuestlinkNative {
  fsFreeze(fd: number): void;
  fsThaw(fd: number): void;
  /** FITRIM over the whole filesystem; `minimum` is the minimum extent length the kernel actually used. */
  fsTrim(fd: number, minlen: number | bigint): { trimmed: bigint; minimum: bigint };
  /** CLOCK_REALTIME in nanoseconds. */
  clockGetTime(): bigint;
  clockSetTime(sec: number | bigint, nsec: number): void;
  /** reboot(2) after sync(2); never returns on success. */
  reboot(cmd: number): void;
  strerror(errno: number): string;
  /**
   * on (default): F_SETOWN(getpid()) then O_ASYNC|O_NONBLOCK, so the kernel sends SIGIO when the fd turns readable
   * or its peer attaches or leaves (virtio-serial); off clears both flags. Listen for SIGIO first: its default action kills.
   */
  fdSetAsync(fd: number, on?: boolean): void;
  readonly LINUX_REBOOT_CMD_POWER_OFF: number;
  readonly LINUX_REBOOT_CMD_RESTART: number;
  readonly LINUX_REBOOT_CMD_HALT: number;
}

let cached: GuestlinkNative | null | undefined;

/** The package root: this file is dist/src/node/linux/native.js (or src/node/linux/native.ts). */
function packageRoot(): string {
  let dir = path.dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 6; i++) {
    if (existsSync(path.join(dir, 'package.json'))) return dir;
    dir = path.dirname(dir);
  }
  return path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../..');
}

/** Loads build/Release/guestlink.node once; undefined when it was not built (or fails to load). */
export function loadNative(): GuestlinkNative | undefined {
  if (cached !== undefined) return cached ?? undefined;
  const file = path.join(packageRoot(), 'build', 'Release', 'guestlink.node');
  try {
    cached = existsSync(file) ? (createRequire(import.meta.url)(file) as GuestlinkNative) : null;
  } catch {
    cached = null;
  }
  return cached ?? undefined;
}
