// Node facts on Talos: OS, host name and load from the API (what the stock qemu-ga extension gets
// wrong: "(none)" host name, kernel-only osinfo). What the API does not serve but the kernel shows
// the same to every process (CPUs, memory blocks, /proc/stat, /proc/diskstats) is read from /proc
// and /sys with the Linux readers: a system extension and a DaemonSet pod see the node's own.
import os from 'node:os';
import type {
  CpuStats,
  DiskStats,
  LoadAverage,
  LoggedInUser,
  LogicalCpu,
  MemoryBlock,
  OsInfo,
  SystemInfo,
  Timezone,
} from '../interfaces.js';
import { first, type TalosApi } from './api.js';
import { decodeHostname, decodeLoadAvg, decodeVersion, EMPTY, METHODS } from './messages.js';
import { parseHostnameStatus, RESOURCES } from './resources.js';

export class TalosSystemInfo implements SystemInfo {
  constructor(
    private readonly api: TalosApi,
    /** The Linux readers for what is the same kernel-wide. */
    private readonly linux: SystemInfo,
  ) {}

  /**
   * Talos's /etc/os-release: NAME="Talos", ID=talos, VERSION_ID=<tag>, PRETTY_NAME="Talos (<tag>)".
   * The kernel comes from uname: a container or extension shares the node's kernel.
   */
  async osInfo(): Promise<OsInfo> {
    const v = decodeVersion(first(await this.api.unary(METHODS.version, EMPTY), 'Version'));
    const info: OsInfo = {
      kernelRelease: os.release(),
      kernelVersion: os.version(),
      machine: os.machine(),
      id: 'talos',
      name: 'Talos',
    };
    if (v.tag !== '') {
      info.prettyName = `Talos (${v.tag})`;
      info.version = v.tag;
      info.versionId = v.tag;
    } else info.prettyName = 'Talos';
    return info;
  }

  /** HostnameStatus (what Talos set, from config, DHCP or the platform); the Hostname call when absent. */
  async hostname(): Promise<string> {
    const h = RESOURCES.hostnameStatus;
    const r = await this.api.get(h.namespace, h.type, h.id);
    const name = r ? parseHostnameStatus(r) : '';
    if (name !== '') return name;
    return decodeHostname(first(await this.api.unary(METHODS.hostname, EMPTY), 'Hostname'));
  }

  /** Talos has no time-zone setting: the node always runs in UTC. */
  async timezone(): Promise<Timezone> {
    return { zone: 'UTC', offsetSeconds: 0 };
  }

  /** Talos has no user logins (no shell, no SSH, no console login): nobody is ever logged in. */
  async users(): Promise<LoggedInUser[]> {
    return [];
  }

  async loadAverage(): Promise<LoadAverage> {
    const l = decodeLoadAvg(first(await this.api.unary(METHODS.loadAvg, EMPTY), 'LoadAvg'));
    return { load1m: l.load1, load5m: l.load5, load15m: l.load15 };
  }

  vcpus(): Promise<LogicalCpu[]> {
    return this.linux.vcpus();
  }

  memoryBlocks(): Promise<MemoryBlock[]> {
    return this.linux.memoryBlocks();
  }

  memoryBlockSize(): Promise<number> {
    return this.linux.memoryBlockSize();
  }

  cpuStats(): Promise<CpuStats[]> {
    return this.linux.cpuStats();
  }

  diskStats(): Promise<DiskStats[]> {
    return this.linux.diskStats();
  }
}
