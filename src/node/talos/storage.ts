// guest-get-fsinfo from the Mounts call (machined's own /proc/mounts with statfs sizes), with each
// mount's filesystem type from the block MountStatus resources. Disks come from /sys (the same for
// every process). Freeze and trim are not offered: Talos has no API for them and the node's
// filesystems are not in the agent's mount namespace.
import path from 'node:path';
import { errors } from '../../protocol/qga/errors.js';
import type { DiskInfo, FilesystemInfo, Storage, TrimResult } from '../interfaces.js';
import type { TalosApi } from './api.js';
import { decodeMounts, EMPTY, METHODS } from './messages.js';
import { parseMountStatus, RESOURCES } from './resources.js';

/** Mount points of pod plumbing (subPath binds, container rootfs): one per pod, never the node's own. */
const POD_MOUNTS = [/^\/var\/lib\/kubelet\/pods\//, /^\/run\/containerd\//, /^\/var\/lib\/containerd\//];

/** Talos's only loop-device mounts are its read-only squashfs images (the root, system extensions). */
const LOOP_FS = 'squashfs';

export class TalosStorage implements Storage {
  constructor(
    private readonly api: TalosApi,
    private readonly linux: Pick<Storage, 'disks'>,
  ) {}

  /** Filesystem types by mount point; best effort, as Mounts alone carries no type. */
  private async types(): Promise<Map<string, string>> {
    const m = RESOURCES.mountStatus;
    const out = new Map<string, string>();
    try {
      for (const r of await this.api.list(m.namespace, m.type)) {
        const s = parseMountStatus(r);
        if (s.target !== '' && s.filesystem !== '') out.set(s.target, s.filesystem);
      }
    } catch {
      // Older Talos (< 1.8) has no block MountStatus: the type is then reported as "unknown".
    }
    return out;
  }

  /**
   * Block-device filesystems only, as qemu-ga reports them. Used bytes are size - available: Mounts
   * gives no free-block count, so blocks reserved for root show as used.
   */
  async filesystems(): Promise<FilesystemInfo[]> {
    const [replies, types] = await Promise.all([this.api.unary(METHODS.mounts, EMPTY), this.types()]);
    const out: FilesystemInfo[] = [];
    for (const reply of replies) {
      for (const m of decodeMounts(reply)) {
        if (!m.filesystem.startsWith('/dev/') || POD_MOUNTS.some((re) => re.test(m.mountedOn))) continue;
        const fs: FilesystemInfo = {
          name: path.basename(m.filesystem),
          mountpoint: m.mountedOn,
          type: types.get(m.mountedOn) ?? (m.filesystem.startsWith('/dev/loop') ? LOOP_FS : 'unknown'),
          disk: [],
        };
        if (m.size > 0n) {
          fs.totalBytes = m.size;
          fs.usedBytes = m.size - m.available;
        }
        out.push(fs);
      }
    }
    return out;
  }

  disks(): Promise<DiskInfo[]> {
    return this.linux.disks();
  }

  /**
   * Refused: the freeze commands reach this only when etcd snapshots turned them on (see
   * withEtcdSnapshots), and the host must then still hear that nothing was frozen.
   */
  async freezableMounts(): Promise<string[]> {
    throw errors.unsupported('fsfreeze on Talos (Talos has no freeze API; the backup is crash-consistent)');
  }

  async freeze(_mountpoint: string): Promise<boolean> {
    throw errors.unsupported('fsfreeze on Talos');
  }

  async thaw(_mountpoint: string): Promise<boolean> {
    return false;
  }

  async trim(_minimum: number): Promise<TrimResult[]> {
    throw errors.unsupported('fstrim on Talos');
  }
}
