// Lazy loader for guestlink's optional native addon (native/*.c, built by node-gyp from binding.gyp):
// FIFREEZE/FITHAW/FITRIM, clock_gettime/clock_settime, reboot(2), the file opener that stays beneath an
// allow-listed directory (openat2), signal-free edge-triggered readiness for the virtio-serial port
// (fdWatch), unix-listen's listening socket and accept4, and the VMware backdoor/vsock. Its own layer
// (src/native/): the node back ends, the transports (through agent/) and the VMware front end's channels
// all use it. Absent addon means
// undefined, and callers fall back (util-linux tools, a verified open, polling).
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
   * Opens `relative` (no empty, '.' or '..' component) beneath the directory `root` without following any
   * symlink: openat2(RESOLVE_BENEATH|RESOLVE_NO_SYMLINKS|RESOLVE_NO_MAGICLINKS) from a directory fd of root,
   * or, without openat2 or with `walk` (tests: a kernel before 5.6), openat(O_NOFOLLOW) one component at a
   * time. Runs on a pool thread; resolves to an O_CLOEXEC fd, rejects with an errno error (ELOOP: a symlink
   * on the way). flags: O_ACCMODE, O_CREAT, O_EXCL, O_TRUNC, O_APPEND, O_NONBLOCK, O_NOCTTY only.
   * Absent from addons built before it.
   */
  openBeneath?(root: string, relative: string, flags: number, mode: number, walk: boolean): Promise<number>;
  /** Whether openBeneath uses openat2 on this kernel (false: the openat walk). */
  openat2Supported?(): boolean;
  /**
   * Edge-triggered readiness without signals: fd goes into an epoll set of its own (EPOLLIN|EPOLLET), which
   * libuv watches; onReady runs on the event loop after each edge and must read until EAGAIN or 0. Makes fd
   * non-blocking. Returns a token for fdUnwatch. Absent from addons built before it (then: undefined).
   */
  fdWatch?(fd: number, onReady: () => void): unknown;
  fdUnwatch?(token: unknown): void;
  /** read(2) into the whole buffer: bytes, 0 at end of file, or -errno (never throws for the syscall). */
  fdRead?(fd: number, buf: Buffer): number;
  /** write(2) of buf[offset, offset+length): bytes or -errno (never throws for the syscall). */
  fdWrite?(fd: number, buf: Buffer, offset: number, length: number): number;
  /**
   * A non-blocking, close-on-exec AF_UNIX stream socket bound to path and listening; its mode is set before
   * bind(), so the file is never wider than `mode` (less the umask). Throws an errno error (EADDRINUSE,
   * ENAMETOOLONG past 107 bytes...). Absent from addons built before it.
   */
  unixListen?(path: string, mode: number, backlog: number): number;
  /** accept4 (non-blocking, close-on-exec): a connection's fd, or -errno (-EAGAIN: none waiting). Never throws for the syscall. */
  unixAccept?(fd: number): number;
  /**
   * Starts `file` (already resolved; no shell, no search) with exactly `argv` (argv[0] included) and `envp`
   * ("NAME=value"), sharing the agent's memory until exec (clone CLONE_VM|CLONE_VFORK: no page-table copy),
   * every signal at its default and none blocked, and only fds 0, 1, 2 open. `pipes`: bit 0 stdin, bit 1
   * stdout, bit 2 stderr get a pipe (the agent's end returned, O_CLOEXEC, blocking), the rest /dev/null (-1).
   * A file without #! runs under /bin/sh, as execvp and g_spawn do. onExit(code, signal) runs on the event
   * loop once the child has ended and been reaped (pidfd; the watch does not keep the loop alive). Throws an
   * errno error (ENOENT, EACCES, ENOEXEC...) when it cannot start. Absent from addons built before it.
   */
  spawn?(
    file: string,
    argv: readonly string[],
    envp: readonly string[],
    pipes: number,
    onExit: (code: number | null, signal: number | null) => void,
  ): { pid: number; stdin: number; stdout: number; stderr: number };
  /** Whether the kernel has pidfd_open (Linux 5.3), which spawn needs to watch an exit. */
  pidfdSupported?(): boolean;
  /** CPUID leaf 0x40000000 vendor ("VMwareVMware", "KVMKVMKVM", ...), or null without the hypervisor bit or off x86. */
  hypervisorVendor(): string | null;
  /**
   * One VMware backdoor call (`in` on port 0x5658, EAX = 'VMXh', DX high = dxHigh): [eax, ebx, ecx, edx, esi, edi].
   * Throws ENODEV without executing anything unless CPUID says VMware: elsewhere the instruction faults.
   */
  backdoorCall(bx: number, cx: number, dxHigh: number, si: number, di: number): number[];
  /** Test only (QEMU vmport in a VM): skip the CPUID check. Returns the previous setting. */
  backdoorAllowWithoutCpuid(on: boolean): boolean;
  /** iopl(2); the QEMU vmport test needs level 3 (VMware does not). */
  iopl(level: number): void;
  /** A connected, non-blocking AF_VSOCK stream fd; reserved binds a source port from 1023 down (EACCES: any port). */
  vsockConnect(cid: number, port: number, reserved: boolean): number;
  readonly LINUX_REBOOT_CMD_POWER_OFF: number;
  readonly LINUX_REBOOT_CMD_RESTART: number;
  readonly LINUX_REBOOT_CMD_HALT: number;
}

let cached: GuestlinkNative | null | undefined;

/** The package root: this file is dist/src/native/addon.js (or src/native/addon.ts). */
function packageRoot(): string {
  let dir = path.dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 6; i++) {
    if (existsSync(path.join(dir, 'package.json'))) return dir;
    dir = path.dirname(dir);
  }
  return path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
}

/**
 * Where the addon may be, first match wins. The single executable (scripts/build-sea.mjs) defines
 * import.meta.url as the executable's own file URL, so `here` is its directory: it ships the addon
 * beside itself (dist/sea/guestlink.node) or in ../lib/guestlink/ (/usr/local/bin/guestlink with
 * /usr/local/lib/guestlink/guestlink.node). A checkout or npm install uses node-gyp's build/Release.
 * A file on disk rather than an SEA asset: dlopen needs a path, and extracting to a temporary file
 * fails on the read-only or noexec /tmp of Talos and hardened hosts.
 */
function addonCandidates(): string[] {
  const here = path.dirname(fileURLToPath(import.meta.url));
  return [
    path.join(here, 'guestlink.node'),
    path.join(here, '..', 'lib', 'guestlink', 'guestlink.node'),
    path.join(packageRoot(), 'build', 'Release', 'guestlink.node'),
  ];
}

/** The addon's readiness functions, as the virtio-serial transport takes them (port-base.ts FdReadiness). */
export type NativeReadiness = {
  watch: NonNullable<GuestlinkNative['fdWatch']>;
  unwatch: NonNullable<GuestlinkNative['fdUnwatch']>;
  read: NonNullable<GuestlinkNative['fdRead']>;
  write: NonNullable<GuestlinkNative['fdWrite']>;
};

/** The addon's readiness functions, when the addon has them all (one built before them has not). */
export function nativeReadiness(n: GuestlinkNative | undefined = loadNative()): NativeReadiness | undefined {
  if (!n?.fdWatch || !n.fdUnwatch || !n.fdRead || !n.fdWrite) return undefined;
  return { watch: n.fdWatch, unwatch: n.fdUnwatch, read: n.fdRead, write: n.fdWrite };
}

/** The addon's functions for the unix-listen transport (transport/unix-accept.ts UnixSocketNative). */
export type NativeUnixSocket = {
  listen: NonNullable<GuestlinkNative['unixListen']>;
  accept: NonNullable<GuestlinkNative['unixAccept']>;
  watch: NonNullable<GuestlinkNative['fdWatch']>;
  unwatch: NonNullable<GuestlinkNative['fdUnwatch']>;
};

/** The addon's unix socket functions, when the addon has them all (one built before them has not). */
export function nativeUnixSocket(n: GuestlinkNative | undefined = loadNative()): NativeUnixSocket | undefined {
  if (!n?.unixListen || !n.unixAccept || !n.fdWatch || !n.fdUnwatch) return undefined;
  return { listen: n.unixListen, accept: n.unixAccept, watch: n.fdWatch, unwatch: n.fdUnwatch };
}

/** The addon's spawn functions (GuestlinkNative.spawn and pidfdSupported), as NativeProcessRunner takes them. */
export type NativeSpawn = Required<Pick<GuestlinkNative, 'spawn' | 'pidfdSupported'>>;

/** The addon's spawn, when the addon has it (one built before it has not). */
export function nativeSpawn(n: GuestlinkNative | undefined = loadNative()): NativeSpawn | undefined {
  if (!n?.spawn || !n.pidfdSupported) return undefined;
  return { spawn: n.spawn, pidfdSupported: n.pidfdSupported };
}

/** Loads the addon once; undefined when it was not built (or fails to load). */
export function loadNative(): GuestlinkNative | undefined {
  if (cached !== undefined) return cached ?? undefined;
  const file = addonCandidates().find((f) => existsSync(f));
  try {
    cached = file ? (createRequire(import.meta.url)(file) as GuestlinkNative) : null;
  } catch {
    cached = null;
  }
  return cached ?? undefined;
}
