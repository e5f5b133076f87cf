// Read-only node facts for the generic Linux back end, from /proc, /sys, /etc and utmp, computed the
// way qemu-ga 7.2 computes them (same lists, same order, same units, same error texts).
import { readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { errnoCode, strerror } from '../../protocol/qga/errno-text.js';
import { genericError } from '../../protocol/qga/errors.js';
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
import { preadSmall, probeDir, readBytesOrUndefined, readdirRaw } from './fs-raw.js';
import { parseOsRelease } from './os-release.js';
import { parseDiskstats, parseLoadavg, parseProcStat } from './proc-stat.js';
import { localTimezone } from './timezone.js';
import { parseUtmp } from './utmp.js';

/** Where the sysfs trees qemu-ga walks live, below a root; paths end in '/' as qemu-ga prints them. */
export function sysPaths(root: string) {
  return {
    cpuDir: path.join(root, 'sys/devices/system/cpu'),
    cpu: (id: number | bigint) => `${path.join(root, `sys/devices/system/cpu/cpu${id}`)}/`,
    memoryDir: `${path.join(root, 'sys/devices/system/memory')}/`,
    memory: (idx: number | bigint) => `${path.join(root, `sys/devices/system/memory/memory${idx}`)}/`,
  };
}

/** Process facts passed in (TZ) and test hooks: the kernel identity and time zone come from the running process unless given. */
export interface LinuxSystemInfoOptions {
  uname?: () => { release: string; version: string; machine: string };
  hostname?: () => string;
  /** The TZ environment variable of the agent process, when set (GLib, and so qemu-ga, honours it). */
  tz?: string;
  zoneId?: string;
  now?: () => Date;
  /** An os-release file to read instead of /etc/os-release and /usr/lib/os-release (QGA_OS_RELEASE). */
  osReleasePath?: string;
}

/** SystemInfo over a root directory ('/' in production, a fixture tree in tests). */
export class LinuxSystemInfo implements SystemInfo {
  private readonly paths: ReturnType<typeof sysPaths>;

  constructor(
    private readonly root = '/',
    private readonly opts: LinuxSystemInfoOptions = {},
  ) {
    this.paths = sysPaths(root);
  }

  private p(rel: string): string {
    return path.join(this.root, rel);
  }

  async osInfo(): Promise<OsInfo> {
    const u = this.opts.uname?.() ?? { release: os.release(), version: os.version(), machine: os.machine() };
    const info: OsInfo = { kernelRelease: u.release, kernelVersion: u.version, machine: u.machine };
    // QGA_OS_RELEASE names the only file to read, as in qemu-ga (its tests use it too).
    const files = this.opts.osReleasePath ? [this.opts.osReleasePath] : [this.p('etc/os-release'), this.p('usr/lib/os-release')];
    for (const file of files) {
      const bytes = readBytesOrUndefined(file);
      const rel = bytes && parseOsRelease(bytes);
      if (rel) return { ...info, ...rel };
    }
    return info;
  }

  async hostname(): Promise<string> {
    return this.opts.hostname?.() ?? os.hostname();
  }

  async timezone(): Promise<Timezone> {
    return localTimezone({ root: this.root, tz: this.opts.tz, zoneId: this.opts.zoneId, now: this.opts.now });
  }

  async users(): Promise<LoggedInUser[]> {
    const bytes = readBytesOrUndefined(this.p('var/run/utmp'));
    return bytes ? parseUtmp(bytes) : [];
  }

  async vcpus(): Promise<LogicalCpu[]> {
    let entries: { name: string }[];
    try {
      entries = readdirRaw(this.paths.cpuDir);
    } catch (e) {
      throw genericError(`failed to list entries: ${this.paths.cpuDir}: ${strerror(e)}`);
    }
    const out: LogicalCpu[] = [];
    for (const { name } of entries) {
      const m = /^cpu([+-]?\d+)/.exec(name);
      if (!m) continue;
      const id = Number(m[1]);
      const dir = this.paths.cpu(id);
      try {
        probeDir(dir);
      } catch (e) {
        throw genericError(`open("${dir}"): ${strerror(e)}`);
      }
      let status: string;
      try {
        status = preadSmall(`${dir}/online`, 1);
      } catch (e) {
        if (errnoCode(e) === 'ENOENT') {
          out.push({ logicalId: id, online: true, canOffline: false });
          continue;
        }
        throw genericError(`open("${dir}/online"): ${strerror(e)}`);
      }
      if (status === '') throw genericError(`pread("${dir}/online"): unexpected EOF`);
      out.push({ logicalId: id, online: status !== '0', canOffline: true });
    }
    return out;
  }

  async memoryBlocks(): Promise<MemoryBlock[]> {
    const dir = this.paths.memoryDir;
    let entries: { name: string; isDirectory: boolean }[];
    try {
      entries = readdirRaw(dir);
    } catch (e) {
      if (errnoCode(e) === 'ENOENT') return [];
      throw genericError(`Can't open directory"${dir}": ${strerror(e)}`);
    }
    const out: MemoryBlock[] = [];
    for (const ent of entries) {
      if (!ent.name.startsWith('memory') || !ent.isDirectory) continue;
      const idx = Number(/^\d*/.exec(ent.name.slice(6))?.[0] || 0);
      out.push(this.readBlock(idx));
    }
    if (out.length === 0) throw genericError('guest reported zero memory blocks!');
    return out;
  }

  private readBlock(physIndex: number): MemoryBlock {
    const dir = this.paths.memory(physIndex);
    let state: string;
    try {
      state = preadSmall(`${dir}state`, 10);
    } catch (e) {
      // qemu-ga opens the directory first; only on failure is it worth the extra syscalls to tell which failed.
      try {
        probeDir(dir);
      } catch (de) {
        throw genericError(`open("${dir}"): ${strerror(de)}`);
      }
      if (errnoCode(e) === 'ENOENT') return { physIndex, online: true, canOffline: false };
      throw genericError(`open sysfs file "state": ${strerror(e)}`);
    }
    if (state === '') throw genericError('pread sysfs file "state": unexpected EOF');
    const online = state.startsWith('online');
    let removable: string;
    try {
      removable = preadSmall(`${dir}removable`, 1);
    } catch (e) {
      if (errnoCode(e) === 'ENOENT') return { physIndex, online, canOffline: false };
      throw genericError(`open sysfs file "removable": ${strerror(e)}`);
    }
    if (removable === '') throw genericError('pread sysfs file "removable": unexpected EOF');
    return { physIndex, online, canOffline: removable !== '0' };
  }

  async memoryBlockSize(): Promise<number> {
    const dir = this.paths.memoryDir;
    try {
      probeDir(dir);
    } catch (e) {
      throw genericError(`open("${dir}"): ${strerror(e)}`);
    }
    let text: string;
    try {
      text = preadSmall(`${dir}block_size_bytes`, 20);
    } catch (e) {
      throw genericError(`open sysfs file "block_size_bytes": ${strerror(e)}`);
    }
    if (text === '') throw genericError('pread sysfs file "block_size_bytes": unexpected EOF');
    // strtol(buf, NULL, 16): leading hex digits, optional 0x.
    const m = /^\s*([+-]?)(?:0[xX])?([0-9a-fA-F]*)/.exec(text);
    const v = m?.[2] ? Number.parseInt(m[2], 16) : 0;
    return m?.[1] === '-' ? -v : v;
  }

  async loadAverage(): Promise<LoadAverage> {
    return parseLoadavg(this.readProc('proc/loadavg'));
  }

  async cpuStats(): Promise<CpuStats[]> {
    return parseProcStat(this.readProc('proc/stat'));
  }

  async diskStats(): Promise<DiskStats[]> {
    return parseDiskstats(this.readProc('proc/diskstats'));
  }

  private readProc(rel: string): string {
    const file = this.p(rel);
    try {
      return readFileSync(file, 'latin1');
    } catch (e) {
      throw genericError(`open("/${rel}"): ${strerror(e)}`);
    }
  }
}
