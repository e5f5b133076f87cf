// Filesystems, disks, fsfreeze and fstrim for generic Linux, matching qemu-ga 7.2: the mounts come
// from /proc/self/mountinfo (local block-device filesystems only, see mountinfo.ts), their disks from
// a sysfs walk (disk-address.ts), usage from statfs, and freeze/thaw/trim from ioctls (fs-ioctl.ts).
import path from 'node:path';
import { loadNative } from '../../native/addon.js';
import { genericError } from '../../protocol/qga/errors.js';
import type { DiskInfo, FilesystemInfo, Storage, TrimResult } from '../interfaces.js';
import { filesystemDevice, listDisks, Sysfs } from './disk-address.js';
import { FsIoctl, type FsIoctlDeps, FsOpError, FsOpUnavailable } from './fs-ioctl.js';
import { fsPromises } from './fs-promises.js';
import { localMounts, type MountEntry, parseMountinfo, statBlockDevice } from './mountinfo.js';

/** A freeze that the filesystem declined harmlessly: not counted, not an error (qemu-ga's rule). */
const FREEZE_SKIPPED = new Set(['EOPNOTSUPP', 'ENOTSUP', 'EBUSY']);
/** Safety bound on repeated FITHAW (each undoes one FIFREEZE). */
const MAX_THAWS = 64;

export interface LinuxStorageOptions {
  /** How to reach FIFREEZE/FITHAW/FITRIM; default: the native addon if built, else util-linux. */
  ioctl?: FsIoctlDeps;
}

export class LinuxStorage implements Storage {
  private readonly sys: Sysfs;
  private ioctlImpl?: FsIoctl;

  /** `root` prefixes /proc, /sys and /run reads (tests use fixture trees); mount points are used as they are. */
  constructor(
    root = '/',
    private readonly opts: LinuxStorageOptions = {},
  ) {
    this.sys = new Sysfs(root);
  }

  private get ioctl(): FsIoctl {
    this.ioctlImpl ??= new FsIoctl(this.opts.ioctl ?? { native: loadNative() });
    return this.ioctlImpl;
  }

  /** qemu-ga's local mounts, in mount order. */
  async mounts(): Promise<MountEntry[]> {
    const file = this.sys.abs('/proc/self/mountinfo');
    let text: string;
    try {
      text = await (await fsPromises()).readFile(file, 'utf8');
    } catch {
      throw genericError("failed to open mtab file: '/proc/self/mountinfo'");
    }
    return localMounts(parseMountinfo(text), (dev) => statBlockDevice(this.sys.abs(dev)));
  }

  async filesystems(): Promise<FilesystemInfo[]> {
    const { statfs } = await fsPromises();
    const out: FilesystemInfo[] = [];
    for (const m of await this.mounts()) {
      const dev = await filesystemDevice(this.sys, m.major, m.minor);
      const fs: FilesystemInfo = { name: dev.name ?? path.basename(m.source), mountpoint: m.mountpoint, type: m.type, disk: dev.disk };
      try {
        // statvfs as qemu-ga reads it: used = blocks - bfree; total = used + bavail (what non-root can use)
        const st = await statfs(m.mountpoint, { bigint: true });
        const used = st.blocks - st.bfree;
        fs.usedBytes = used * st.bsize;
        fs.totalBytes = (used + st.bavail) * st.bsize;
      } catch {}
      out.unshift(fs); // qemu-ga prepends: last mount first
    }
    return out;
  }

  disks(): Promise<DiskInfo[]> {
    return listDisks(this.sys);
  }

  async freezableMounts(): Promise<string[]> {
    return (await this.mounts()).map((m) => m.mountpoint);
  }

  /** FIFREEZE; false when skipped (EOPNOTSUPP, EBUSY), as qemu-ga leaves those out of its count. */
  async freeze(mountpoint: string): Promise<boolean> {
    try {
      await this.ioctl.freeze(mountpoint);
      return true;
    } catch (err) {
      if (err instanceof FsOpError && FREEZE_SKIPPED.has(err.code)) return false;
      throw this.wrap(err, mountpoint, 'freeze');
    }
  }

  /**
   * FITHAW until it fails (each FIFREEZE needs its own FITHAW), as qemu-ga does. True when the filesystem
   * was frozen; a filesystem that was not frozen (EINVAL) or cannot be opened is nothing to thaw.
   */
  async thaw(mountpoint: string): Promise<boolean> {
    let thawed = false;
    for (let i = 0; i < MAX_THAWS; i++) {
      try {
        await this.ioctl.thawOnce(mountpoint);
        thawed = true;
      } catch (err) {
        if (err instanceof FsOpUnavailable) throw genericError(err.message, 'UNSUPPORTED');
        break;
      }
    }
    return thawed;
  }

  async trim(minimum: number): Promise<TrimResult[]> {
    const out: TrimResult[] = [];
    for (const m of await this.mounts()) {
      const r: TrimResult = { path: m.mountpoint };
      out.unshift(r); // qemu-ga prepends
      try {
        const t = await this.ioctl.trim(m.mountpoint, minimum);
        r.trimmed = t.trimmed;
        r.minimum = t.minimum;
      } catch (err) {
        if (err instanceof FsOpUnavailable) throw genericError(err.message, 'UNSUPPORTED');
        const e = err as FsOpError;
        if (e.op === 'open') r.error = `failed to open: ${e.message}`;
        else if (e.code === 'ENOTTY' || e.code === 'EOPNOTSUPP' || e.code === 'ENOTSUP') r.error = 'trim not supported';
        else r.error = `failed to trim: ${e.message}`;
      }
    }
    return out;
  }

  private wrap(err: unknown, mountpoint: string, what: string) {
    if (err instanceof FsOpUnavailable) return genericError(err.message, 'UNSUPPORTED');
    if (err instanceof FsOpError && err.op === 'open') return genericError(`failed to open ${mountpoint}: ${err.message}`, 'FREEZE_FAILED');
    return genericError(`failed to ${what} ${mountpoint}: ${(err as Error).message}`, 'FREEZE_FAILED');
  }
}
