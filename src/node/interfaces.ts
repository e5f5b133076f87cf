// What the commands need from the node OS. Back ends (linux, talos, dry-run) implement these;
// commands depend only on this file. Shapes are plain data in the QGA vocabulary, camelCase.

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
  /** etcd snapshots, on a control-plane node with --etcd-snapshot-dir set; absent elsewhere. */
  etcdSnapshots?: EtcdSnapshots;
  /** QGA commands this back end cannot serve at all: disabled in guest-info, as qemu-ga does. */
  unsupportedCommands: readonly string[];
  /** Releases what the back end holds open (the Talos gRPC channel); absent when nothing is. */
  close?(): void | Promise<void>;
}

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
