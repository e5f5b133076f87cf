// Facts about the node and the few things a hypervisor may change on it: OS, users, time zone, CPUs,
// memory blocks, load and counters (SystemInfo, read-only), vCPU and memory hot-plug (Hardware), the clock.
// One of the node interfaces (node/interfaces.ts re-exports them all).

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

/** Time in nanoseconds since the epoch, as bigint (exceeds 2^53). */
export interface Clock {
  now(): bigint;
  /** Set the system clock; without a value, from the hardware clock (hwclock -s). */
  set(ns?: bigint): Promise<void>;
}
