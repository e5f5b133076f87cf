// What the commands need from the node OS. Back ends (linux, talos, dry-run) implement these;
// commands depend only on this file. Shapes are plain data in the QGA vocabulary, camelCase.
import type { CommandName } from '../protocol/qga/commands.js';

export interface OsInfo {
  kernelRelease?: string;
  kernelVersion?: string;
  machine?: string;
  id?: string;
  name?: string;
  prettyName?: string;
  version?: string;
  versionId?: string;
  variant?: string;
  variantId?: string;
}

export interface IpAddress {
  address: string;
  family: 'ipv4' | 'ipv6';
  prefix: number;
}

export interface InterfaceStats {
  rxBytes: number | bigint;
  rxPackets: number | bigint;
  rxErrs: number | bigint;
  rxDropped: number | bigint;
  txBytes: number | bigint;
  txPackets: number | bigint;
  txErrs: number | bigint;
  txDropped: number | bigint;
}

export interface NetworkInterface {
  name: string;
  /** MAC address, lower-case colon form; absent for interfaces without one. */
  hardwareAddress?: string;
  addresses: IpAddress[];
  stats?: InterfaceStats;
  /** True for CNI/container/virtual links (veth*, cali*, cilium_*, ...): hidden when configured. */
  virtual?: boolean;
}

export interface PciAddress {
  domain: number;
  bus: number;
  slot: number;
  function: number;
}

export interface DiskAddress {
  pciController: PciAddress;
  busType: string;
  bus: number;
  target: number;
  unit: number;
  serial?: string;
  dev?: string;
}

export interface DiskInfo {
  name: string;
  partition: boolean;
  dependencies?: string[];
  address?: DiskAddress;
  alias?: string;
}

export interface FilesystemInfo {
  name: string;
  mountpoint: string;
  type: string;
  usedBytes?: number | bigint;
  totalBytes?: number | bigint;
  disk: DiskAddress[];
}

export interface TrimResult {
  path: string;
  trimmed?: number | bigint;
  minimum?: number | bigint;
  error?: string;
}

export interface LogicalCpu {
  logicalId: number;
  online: boolean;
  canOffline?: boolean;
}

export interface MemoryBlock {
  physIndex: number;
  online: boolean;
  canOffline?: boolean;
}

export interface MemoryBlockResult {
  physIndex: number;
  response: 'success' | 'not-found' | 'operation-not-supported' | 'operation-failed';
  errorCode?: number;
}

export interface LoggedInUser {
  user: string;
  /** Seconds since the epoch, with microseconds as the fraction. */
  loginTime: number;
  domain?: string;
}

export interface Timezone {
  zone?: string;
  offsetSeconds: number;
}

export interface DiskStats {
  name: string;
  major: number;
  minor: number;
  /** Keys are QGA's GuestDiskStats member names in camelCase (readSectors, iosPgr, ...). */
  stats: Record<string, number | bigint>;
}

export interface CpuStats {
  cpu: number;
  user: number;
  nice: number;
  system: number;
  idle: number;
  iowait?: number;
  irq?: number;
  softirq?: number;
  steal?: number;
  guest?: number;
  guestnice?: number;
}

export interface LoadAverage {
  load1m: number;
  load5m: number;
  load15m: number;
}

/** Facts about the node, read-only. */
export interface SystemInfo {
  osInfo(): Promise<OsInfo>;
  hostname(): Promise<string>;
  timezone(): Promise<Timezone>;
  users(): Promise<LoggedInUser[]>;
  vcpus(): Promise<LogicalCpu[]>;
  memoryBlocks(): Promise<MemoryBlock[]>;
  memoryBlockSize(): Promise<number>;
  loadAverage(): Promise<LoadAverage>;
  cpuStats(): Promise<CpuStats[]>;
  diskStats(): Promise<DiskStats[]>;
}

export interface Hardware {
  setVcpus(cpus: LogicalCpu[]): Promise<number>;
  setMemoryBlocks(blocks: MemoryBlock[]): Promise<MemoryBlockResult[]>;
}

export interface Network {
  interfaces(): Promise<NetworkInterface[]>;
}

/** Time in nanoseconds since the epoch, as bigint (exceeds 2^53). */
export interface Clock {
  now(): bigint;
  /** Set the system clock; without a value, from the hardware clock (hwclock -s). */
  set(ns?: bigint): Promise<void>;
}

export interface Storage {
  filesystems(): Promise<FilesystemInfo[]>;
  disks(): Promise<DiskInfo[]>;
  /** Mount points that can be frozen, in mount order (freeze goes in reverse). */
  freezableMounts(): Promise<string[]>;
  /** Freezes one filesystem; false when it was skipped (cannot be frozen, or already frozen). */
  freeze(mountpoint: string): Promise<boolean>;
  /** Thaws one filesystem; false when it was not frozen. */
  thaw(mountpoint: string): Promise<boolean>;
  trim(minimum: number): Promise<TrimResult[]>;
}

export type ShutdownMode = 'powerdown' | 'halt' | 'reboot';
export type SuspendMode = 'disk' | 'ram' | 'hybrid';

/** Power actions. Resolves once the action is under way; rejects with the reason it cannot be done. */
export interface Power {
  /** Name for logs and guest-info ("dry-run", "logind", "openrc", "talos", ...). */
  readonly name: string;
  shutdown(mode: ShutdownMode): Promise<void>;
  suspend(mode: SuspendMode): Promise<void>;
  /**
   * True when the OS itself cordons and drains the Kubernetes node before this action (Talos's
   * Shutdown{force:false}); the Kubernetes lifecycle's `--drain auto` then leaves it to the OS.
   * Absent means false.
   */
  drainsItself?(mode: ShutdownMode): boolean;
}

export interface Accounts {
  setPassword(user: string, password: string, crypted: boolean): Promise<void>;
  authorizedKeys(user: string): Promise<string[]>;
  addAuthorizedKeys(user: string, keys: string[], reset: boolean): Promise<void>;
  removeAuthorizedKeys(user: string, keys: string[]): Promise<void>;
}

/** How guest-file-open opens a file: qemu-ga's fopen() modes, in words rather than the OS's flag numbers. */
export interface FileOpenMode {
  readable: boolean;
  writable: boolean;
  /** Create the file when it is missing (w, a): a new file gets mode 0600. */
  create: boolean;
  /** Empty an existing file (w): done only once the opened file is known to be the one beneath the root. */
  truncate: boolean;
  /** Every write goes to the end (a). */
  append: boolean;
}

/** Choices the opener leaves to the caller (from the agent's settings). */
export interface FileOpenOptions {
  /** Open a file that has other hard links (whose other names may be outside the allow-list); else EMLINK. */
  allowHardLinks: boolean;
}

/** One open file behind a guest-file-* handle, with qemu-ga's read/write/seek semantics. */
export interface OpenedFile {
  /** Where the file was opened: the root's canonical path plus the relative path (no symlink on the way). */
  readonly path: string;
  /**
   * Reads up to `count` bytes; eof is true when the file ended before `count` (never for count 0). Into
   * `into` when given (at least `count` long: guest-file-read reads into its reply's buffer), else into a
   * new buffer; `data` is the part read.
   */
  read(count: number, into?: Buffer): Promise<{ count: number; data: Buffer; eof: boolean }>;
  /** Writes `data` (at the end in append mode); the number of bytes written. */
  write(data: Buffer): Promise<number>;
  /** Moves the position (0 set, 1 cur, 2 end); returns the new one. */
  seek(offset: number, whence: 0 | 1 | 2): Promise<number>;
  /** Waits for pending operations (writes are not buffered). */
  flush(): Promise<void>;
  close(): Promise<void>;
}

/**
 * Opens files for guest-file-* beneath an allow-listed directory, never beside it: no symlink, no '..' and
 * no rename race beneath the root can lead the open outside (openat2 RESOLVE_BENEATH through the native
 * addon, else an openat walk, else an open verified after the fact). Shared by every back end: the agent
 * opens files on the node's own filesystem on Talos too.
 */
export interface FileAccess {
  /** How files are opened here: 'openat2', 'openat-walk' or 'verify-after-open' (no native addon). */
  readonly method: string;
  /**
   * An allow-list entry with its own symlinks resolved (the administrator's path, trusted): the directory,
   * or for a file entry that does not exist yet its resolved parent plus its name; undefined when missing.
   */
  canonical(entry: string): Promise<string | undefined>;
  /**
   * Opens `relative` (components without '.', '..' or empty ones) beneath the directory `root` (a canonical
   * path). Rejects with an errno-style error (`code`): ELOOP for a symlink on the way, EMLINK for a file
   * with other hard links unless allowed, ENOENT, EACCES, ... as the OS says.
   */
  openBeneath(root: string, relative: string, mode: FileOpenMode, opts: FileOpenOptions): Promise<OpenedFile>;
}

/** One node back end: everything the commands can ask of the OS. */
export interface NodeBackend {
  readonly name: string;
  system: SystemInfo;
  hardware: Hardware;
  network: Network;
  clock: Clock;
  storage: Storage;
  power: Power;
  accounts: Accounts;
  /** guest-file-*: opening files beneath the allow-listed directories. */
  files: FileAccess;
  /** etcd snapshots, on a control-plane node with --etcd-snapshot-dir set; absent elsewhere. */
  etcdSnapshots?: EtcdSnapshots;
  /** QGA commands this back end cannot serve at all: disabled in guest-info, as qemu-ga does. */
  unsupportedCommands: readonly CommandName[];
  /** Releases what the back end holds open (the Talos gRPC channel); absent when nothing is. */
  close?(): void | Promise<void>;
}

/** A program for guest-exec to start: already resolved and allowed; the environment is complete (nothing inherited). */
export interface ProcessSpec {
  /** Absolute path of the program. */
  file: string;
  /** argv[0]: the name as the client gave it. */
  argv0: string;
  args: readonly string[];
  /** The whole environment of the program. */
  env: Readonly<Record<string, string>>;
  /** Bytes for its stdin, which is then closed; absent: stdin is /dev/null. */
  stdin?: Uint8Array;
  /** Pipe its stdout back (else /dev/null). */
  stdout: boolean;
  /** Pipe its stderr back (else /dev/null). */
  stderr: boolean;
}

/** How a started process ended: exit code, or the number of the signal that killed it. */
export interface ProcessExit {
  code: number | null;
  signal: number | null;
}

/** What a running process reports back, in order: output chunks and the input's release, then `exited` once. */
export interface ProcessEvents {
  output(stream: 'stdout' | 'stderr', chunk: Buffer): void;
  /** stdin was handed over in full, or abandoned (the program closed it or ended): its bytes are no longer held. */
  inputReleased(): void;
  /** The process ended and its output pipes are closed (so no output follows), as qemu-ga waits for both. */
  exited(exit: ProcessExit): void;
}

/** Starts programs for guest-exec: the only place they are spawned (node/linux/process-runner.ts). */
export interface ProcessRunner {
  /**
   * Resolves `program` as glib's g_spawn does: a name with a '/' as is (made absolute), a bare name
   * through `searchPath`; rejects with an errno error (code ENOENT/EACCES) when none is found.
   */
  resolve(program: string, searchPath: string): Promise<string>;
  /** Starts it; resolves with its pid once it runs; rejects with an errno error when it cannot start. */
  start(spec: ProcessSpec, events: ProcessEvents): Promise<number>;
}

/**
 * Runs the fsfreeze hook (qemu-ga's -F) with "freeze" or "thaw" and waits for it; rejects with a QgaError
 * worded like qemu-ga's (node/linux/freeze-hook.ts).
 */
export type FreezeHookRunner = (hook: string, arg: 'freeze' | 'thaw') => Promise<void>;
/** One etcd snapshot on disk, verified: etcd's database followed by the sha256 etcd appends to it. */
export interface EtcdSnapshot {
  path: string;
  /** The etcd revision the snapshot holds (the highest key revision in its database). */
  revision: number;
  /** Bytes of the file, the appended 32-byte digest included. */
  size: number;
  /** SHA-256 of the whole file, hex (what a copy of it must hash to). */
  sha256: string;
  /** When it was taken, ISO 8601 UTC. */
  takenAt: string;
  /** From the request to the file being fsynced, verified and in place. */
  durationMs: number;
}

/** What the last snapshot attempt came to, for guestlink-etcd-snapshot-status and events. */
export interface EtcdSnapshotOutcome {
  trigger: 'freeze' | 'command';
  /** When the attempt ended, ISO 8601 UTC. */
  at: string;
  snapshot?: EtcdSnapshot;
  /** Why it failed (absent on success). */
  error?: string;
  /** The failure's stable code (ETCD_UNREACHABLE, ETCD_SNAPSHOT_TIMEOUT, ...). */
  code?: string;
}

/**
 * etcd snapshots of this node's etcd member, kept in one directory (control-plane nodes only; a
 * back end without etcd leaves NodeBackend.etcdSnapshots absent). The freeze takes one before it
 * freezes; guestlink-etcd-snapshot takes one on demand.
 */
export interface EtcdSnapshots {
  /** The directory the snapshots are kept in (the last --etcd-snapshot-keep of them). */
  readonly dir: string;
  /** Where snapshots come from, for logs and errors ("Talos EtcdSnapshot", "etcd https://127.0.0.1:2379"). */
  readonly source: string;
  /**
   * Takes one, bounded by its own timeout: streamed to a temporary file, fsynced, its digest and
   * database checked, renamed into place, older ones rotated out. Rejects with an Error whose
   * `code` says why (and whose message says what to do); a request while one is under way joins it.
   */
  take(trigger: 'freeze' | 'command'): Promise<EtcdSnapshot>;
  /** The outcome of the last attempt since the agent started, if any. */
  last(): EtcdSnapshotOutcome | undefined;
}
