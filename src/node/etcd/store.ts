// The snapshot directory: created 0700 when missing, refused when it is a symlink, not a directory,
// not ours or writable by others (a planted entry there is then the agent's own doing). Within it,
// work goes through a descriptor of the directory (/proc/self/fd/N/name), so swapping the directory
// for a symlink mid-way changes nothing (libuv opens every descriptor close-on-exec). Files are written to a fresh temporary name (O_EXCL,
// O_NOFOLLOW, mode 0600: a snapshot holds every Secret of the cluster), fsynced, renamed into place
// (a rename replaces a planted symlink, never follows it) and the directory fsynced; only then are
// older snapshots removed, so a failed attempt never costs a good one.
import { randomBytes } from 'node:crypto';
import { constants, existsSync } from 'node:fs';
import { type FileHandle, lstat, mkdir, open, readdir, rename, unlink } from 'node:fs/promises';
import path from 'node:path';
import { EtcdSnapshotError } from './errors.js';

/** `etcd-20250102T030405.678Z-rev12345.db`: sorts by time, names the revision. */
export const SNAPSHOT_NAME = /^etcd-(\d{8}T\d{6}\.\d{3}Z)-rev(\d+)\.db$/;
const TEMP_NAME = /^\.etcd-snapshot-[0-9a-f]{16}\.partial$/;

/** The file name for a snapshot taken at `at` holding `revision`. */
export function snapshotName(at: Date, revision: number): string {
  const stamp = at.toISOString().replace(/[-:]/g, '');
  return `etcd-${stamp}-rev${revision}.db`;
}

/** Where the agent's log lines go (a pino logger fits). */
export interface StoreLog {
  warn(obj: object, msg: string): void;
  info(obj: object, msg: string): void;
}

function dirError(dir: string, why: string): EtcdSnapshotError {
  return new EtcdSnapshotError('ETCD_SNAPSHOT_DIR', `etcd snapshot directory ${dir} ${why}`);
}

/** One open session on the directory: everything between prepare() and close() uses its descriptor. */
export class SnapshotDir {
  private constructor(
    readonly dir: string,
    private readonly fd: FileHandle,
    private readonly base: string,
    private readonly log: StoreLog,
  ) {}

  /** Checks (or creates) the directory and pins it. */
  static async open(dir: string, log: StoreLog): Promise<SnapshotDir> {
    let st = await lstat(dir).catch((err: NodeJS.ErrnoException) => {
      if (err.code === 'ENOENT') return undefined;
      throw dirError(dir, `cannot be examined: ${err.message}`);
    });
    if (!st) {
      await mkdir(dir, { recursive: true, mode: 0o700 }).catch((err: Error) => {
        throw dirError(dir, `cannot be created: ${err.message}`);
      });
      st = await lstat(dir);
    }
    if (st.isSymbolicLink()) throw dirError(dir, 'is a symbolic link: give the real directory');
    if (!st.isDirectory()) throw dirError(dir, 'is not a directory');
    const uid = process.getuid?.();
    if (uid !== undefined && st.uid !== uid) throw dirError(dir, `belongs to uid ${st.uid}, not to the agent (uid ${uid}): chown it`);
    if ((st.mode & 0o022) !== 0)
      throw dirError(dir, `is writable by group or others (mode ${(st.mode & 0o777).toString(8)}): chmod 0700 it`);
    let fd: FileHandle;
    try {
      fd = await open(dir, constants.O_RDONLY | constants.O_DIRECTORY | constants.O_NOFOLLOW);
    } catch (err) {
      throw dirError(dir, `cannot be opened: ${(err as Error).message}`);
    }
    // Through the descriptor when /proc is there (always on Linux outside odd sandboxes).
    const base = existsSync(`/proc/self/fd/${fd.fd}`) ? `/proc/self/fd/${fd.fd}` : dir;
    return new SnapshotDir(dir, fd, base, log);
  }

  private at(name: string): string {
    return path.join(this.base, name);
  }

  /** The path reported to users (the configured directory, not /proc). */
  shown(name: string): string {
    return path.join(this.dir, name);
  }

  /** A new temporary file for the stream. */
  async createTemp(): Promise<{ name: string; fh: FileHandle }> {
    const name = `.etcd-snapshot-${randomBytes(8).toString('hex')}.partial`;
    const flags = constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW;
    try {
      return { name, fh: await open(this.at(name), flags, 0o600) };
    } catch (err) {
      throw noSpace(err, this.dir) ?? dirError(this.dir, `refuses a new file: ${(err as Error).message}`);
    }
  }

  /** Opens a file of the directory for reading (never through a symlink). */
  openRead(name: string): Promise<FileHandle> {
    return open(this.at(name), constants.O_RDONLY | constants.O_NOFOLLOW);
  }

  /** Removes a file of ours, if it is there. */
  async remove(name: string): Promise<void> {
    await unlink(this.at(name)).catch(() => {});
  }

  /** Renames the temporary file to its final name and makes that durable. */
  async commit(temp: string, name: string): Promise<string> {
    await rename(this.at(temp), this.at(name));
    await this.fd.sync();
    return this.shown(name);
  }

  /** Leftover temporary files (a crash mid-snapshot); one snapshot runs at a time, so none is in use. */
  async removeStale(): Promise<void> {
    for (const name of await readdir(this.base)) if (TEMP_NAME.test(name)) await this.remove(name);
  }

  /**
   * Snapshot files, newest first. Entries that carry a snapshot's name but are not regular files
   * (a planted symlink, a directory) are never counted, and symlinks are removed (the link, not its target).
   */
  async list(): Promise<string[]> {
    const out: string[] = [];
    for (const name of await readdir(this.base)) {
      if (!SNAPSHOT_NAME.test(name)) continue;
      const st = await lstat(this.at(name)).catch(() => undefined);
      if (st?.isFile()) out.push(name);
      else if (st?.isSymbolicLink()) {
        this.log.warn({ etcdSnapshot: this.shown(name) }, 'a symlink with a snapshot name in the etcd snapshot directory: removed');
        await this.remove(name);
      }
    }
    return out.sort().reverse();
  }

  /** Keeps the newest `keep` snapshots, removes the others; returns the removed names. */
  async rotate(keep: number): Promise<string[]> {
    const old = (await this.list()).slice(keep);
    for (const name of old) await this.remove(name);
    if (old.length > 0) await this.fd.sync();
    return old;
  }

  async close(): Promise<void> {
    await this.fd.close().catch(() => {});
  }
}

/** ENOSPC/EDQUOT as the error users can act on; undefined for anything else. */
export function noSpace(err: unknown, dir: string, written?: number): EtcdSnapshotError | undefined {
  const code = (err as NodeJS.ErrnoException)?.code;
  if (code !== 'ENOSPC' && code !== 'EDQUOT') return undefined;
  return new EtcdSnapshotError(
    'ETCD_SNAPSHOT_NO_SPACE',
    `no space left for the etcd snapshot in ${dir}${written !== undefined ? ` after ${written} bytes` : ''} (${code}): free space there or lower --etcd-snapshot-keep`,
  );
}
