// /proc/self/mountinfo parsing and qemu-ga's choice of "local" filesystems: the mounts guest-get-fsinfo
// reports and guest-fsfreeze-*/guest-fstrim act on. qemu-ga keeps every mount whose device has a
// non-zero major number (so proc, sysfs, tmpfs, cgroup, overlay... drop out) plus btrfs, whose st_dev
// major is 0 but whose source is a block device. No type list and no bind-mount dedup: same as 7.2.
import { fsPromises } from './fs-promises.js';

/** One mount, decoded. */
export interface MountEntry {
  major: number;
  minor: number;
  mountpoint: string;
  type: string;
  source: string;
}

/** Undoes the kernel's octal escapes (\040 for space, \011, \012, \134) and `\\`, as qemu-ga's decode_mntname. */
export function decodeMountName(s: string): string {
  return s.replace(/\\(\\|[0-3][0-7][0-7])/g, (_m, g: string) => (g === '\\' ? '\\' : String.fromCharCode(Number.parseInt(g, 8))));
}

/** Parses mountinfo text; malformed lines are skipped like qemu-ga's sscanf checks do. */
export function parseMountinfo(text: string): MountEntry[] {
  const out: MountEntry[] = [];
  for (const line of text.split('\n')) {
    // "<id> <parent> <maj>:<min> <root> <mountpoint> <opts> [optional...] - <type> <source> <superopts>"
    const m = /^\s*\d+\s+\d+\s+(\d+):(\d+)\s+\S+\s+(\S+)/.exec(line);
    if (!m) continue;
    const dash = line.indexOf(' - ', m[0].length);
    if (dash < 0) continue;
    const [type, source = ''] = line
      .slice(dash + 3)
      .trim()
      .split(/\s+/);
    if (!type) continue;
    out.push({ major: Number(m[1]), minor: Number(m[2]), mountpoint: decodeMountName(m[3] ?? ''), type, source: decodeMountName(source) });
  }
  return out;
}

/** Device numbers of a block device node; undefined when it is not one (qemu-ga's dev_major_minor). */
export type BlockDevLookup = (devPath: string) => Promise<{ major: number; minor: number } | undefined>;

/** stat(2) of a device node: st_rdev split into major/minor. */
export const statBlockDevice: BlockDevLookup = async (devPath) => {
  try {
    const st = await (await fsPromises()).stat(devPath);
    if (!st.isBlockDevice()) return undefined;
    const rdev = st.rdev;
    // Linux's new_decode_dev: major = (dev >> 8) & 0xfff, minor = (dev & 0xff) | ((dev >> 12) & 0xfff00)
    return { major: Math.floor(rdev / 256) & 0xfff, minor: (rdev & 0xff) | (Math.floor(rdev / 4096) & 0xfff00) };
  } catch {
    return undefined;
  }
};

/** The mounts qemu-ga treats as local filesystems, in mount order, with btrfs's real device numbers filled in. */
export async function localMounts(entries: readonly MountEntry[], lookup: BlockDevLookup = statBlockDevice): Promise<MountEntry[]> {
  const out: MountEntry[] = [];
  for (const e of entries) {
    if (e.major !== 0) {
      out.push(e);
      continue;
    }
    if (e.type !== 'btrfs') continue;
    const dev = await lookup(e.source);
    if (dev) out.push({ ...e, ...dev });
  }
  return out;
}
