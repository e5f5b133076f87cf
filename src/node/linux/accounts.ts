// Passwords (through chpasswd, fed on stdin, no shell) and ~user/.ssh/authorized_keys, with
// qemu-ga 7.2's rules and error texts. Users and homes come from <root>/etc/passwd; key files are
// replaced atomically (temporary file + rename), so a failed write never leaves half a file.
// node:crypto, node:child_process and node:fs/promises are imported when first used: the agent makes this
// back end at every start, and loading them cost ~10 ms and ~7 MB RSS before its first reply (docs/benchmarks.md).
import { constants } from 'node:fs';
import path from 'node:path';
import { genericError } from '../../protocol/qga/errors.js';
import type { Accounts } from '../interfaces.js';
import { fsPromises } from './fs-promises.js';

interface PasswdEntry {
  name: string;
  uid: number;
  gid: number;
  home: string;
}

export interface LinuxAccountsOptions {
  /** The chpasswd program; default: the first of /usr/sbin, /usr/bin, /sbin, /bin that has one. */
  chpasswd?: string;
}

const STRERROR: Record<string, string> = {
  ENOENT: 'No such file or directory',
  EACCES: 'Permission denied',
  EPERM: 'Operation not permitted',
  ENOTDIR: 'Not a directory',
  EISDIR: 'Is a directory',
  EEXIST: 'File exists',
  ENOSPC: 'No space left on device',
  EROFS: 'Read-only file system',
  ELOOP: 'Too many levels of symbolic links',
  NOT_PLAIN_FILE: 'Not a regular file with a single link',
};

function strerror(err: unknown): string {
  const code = (err as NodeJS.ErrnoException).code;
  return (code && STRERROR[code]) || (err instanceof Error ? err.message : String(err));
}

/** qemu-ga's only check on a key: not a comment, one line. */
function checkKeys(keys: readonly string[]): void {
  for (const key of keys) {
    if (key.startsWith('#') || key.includes('\n') || key.includes('\0'))
      throw genericError(`invalid OpenSSH public key: '${key}'`, 'BAD_ARGUMENT');
  }
}

/** Linux accounts on the files under `root` ('/' on a real node; a fixture in tests). */
export class LinuxAccounts implements Accounts {
  constructor(
    private readonly root = '/',
    private readonly opts: LinuxAccountsOptions = {},
  ) {}

  private async user(name: string): Promise<PasswdEntry> {
    const { readFile } = await fsPromises();
    let text = '';
    try {
      text = await readFile(path.join(this.root, 'etc/passwd'), 'utf8');
    } catch (err) {
      throw genericError(`failed to lookup user '${name}': ${strerror(err)}`, 'NO_USER');
    }
    for (const line of text.split('\n')) {
      const f = line.split(':');
      if (f.length >= 7 && f[0] === name && name !== '') {
        return { name, uid: Number(f[2]), gid: Number(f[3]), home: f[5] as string };
      }
    }
    // getpwnam_r finds nothing: glib reports ENOENT.
    // qemu-ga says "Success" here (getpwnam's errno 0); a user deserves the actual reason.
    throw genericError(`failed to lookup user '${name}': no such user`, 'NO_USER');
  }

  private paths(u: PasswdEntry) {
    const ssh = path.join(this.root, u.home, '.ssh');
    return { ssh, keys: path.join(ssh, 'authorized_keys'), shown: path.join(u.home, '.ssh', 'authorized_keys') };
  }

  /**
   * The lines of `<ssh>/authorized_keys`, read without following a link a user planted: ~/.ssh is opened
   * O_NOFOLLOW|O_DIRECTORY and the file beneath that descriptor (through /proc/self/fd, so a rename race
   * cannot swap the directory) O_NOFOLLOW; it must be a regular file with one link. Otherwise a user's
   * `authorized_keys -> /etc/shadow` would be read as root, and add-authorized-keys would copy the lines
   * into a file the user owns.
   */
  private async readLines(ssh: string): Promise<string[]> {
    const { open } = await fsPromises();
    const dir = await open(ssh, constants.O_RDONLY | constants.O_DIRECTORY | constants.O_NOFOLLOW);
    try {
      const fh = await open(`/proc/self/fd/${dir.fd}/authorized_keys`, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK);
      try {
        const st = await fh.stat();
        if (!st.isFile() || st.nlink !== 1)
          throw Object.assign(new Error('not a regular file with a single link'), { code: 'NOT_PLAIN_FILE' });
        return (await fh.readFile('utf8')).split('\n');
      } finally {
        await fh.close();
      }
    } finally {
      await dir.close();
    }
  }

  async authorizedKeys(user: string): Promise<string[]> {
    const u = await this.user(user);
    const { ssh, shown } = this.paths(u);
    let lines: string[];
    try {
      lines = await this.readLines(ssh);
    } catch (err) {
      throw genericError(`failed to read '${shown}': Failed to open file \u201C${shown}\u201D: ${strerror(err)}`, 'IO');
    }
    // qemu-ga prepends each key to its list: the reply is in reverse file order.
    return lines
      .map((l) => l.trim())
      .filter((l) => l !== '' && !l.startsWith('#'))
      .reverse();
  }

  async addAuthorizedKeys(user: string, keys: string[], reset: boolean): Promise<void> {
    checkKeys(keys);
    const u = await this.user(user);
    const { ssh, keys: file, shown } = this.paths(u);
    let lines: string[] | undefined;
    if (!reset) lines = await this.readLines(ssh).catch(() => undefined);
    await this.ensureSshDir(ssh, u, lines === undefined);
    const out = lines ?? [];
    for (const k of keys) if (!out.includes(k)) out.push(k);
    await this.writeKeys(file, shown, out, u);
  }

  async removeAuthorizedKeys(user: string, keys: string[]): Promise<void> {
    const { access } = await fsPromises();
    checkKeys(keys);
    const u = await this.user(user);
    const { ssh, keys: file, shown } = this.paths(u);
    try {
      await access(file, constants.F_OK);
    } catch {
      return; // nothing to remove from, as in qemu-ga
    }
    await this.ensureSshDir(ssh, u, false);
    let lines: string[];
    try {
      lines = await this.readLines(ssh);
    } catch (err) {
      throw genericError(`failed to read '${shown}': Failed to open file \u201C${shown}\u201D: ${strerror(err)}`, 'IO');
    }
    const drop = new Set(keys);
    await this.writeKeys(
      file,
      shown,
      lines.filter((l) => !drop.has(l)),
      u,
    );
  }

  /** ~/.ssh must be a real directory (never a symlink an unprivileged user planted); created 0700 and owned by the user. */
  private async ensureSshDir(ssh: string, u: PasswdEntry, create: boolean): Promise<void> {
    const { chmod, chown, lstat, mkdir } = await fsPromises();
    const shown = path.join(u.home, '.ssh');
    let st: Awaited<ReturnType<typeof lstat>> | undefined;
    try {
      st = await lstat(ssh);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT')
        throw genericError(`failed to create directory '${shown}': ${strerror(err)}`, 'IO');
    }
    if (st?.isSymbolicLink()) throw genericError(`refusing to use '${shown}': it is a symbolic link`, 'IO');
    if (st && !st.isDirectory()) throw genericError(`failed to create directory '${shown}': File exists`, 'IO');
    if (st || !create) return;
    try {
      await mkdir(ssh, 0o700);
    } catch (err) {
      throw genericError(`failed to create directory '${shown}': ${strerror(err)}`, 'IO');
    }
    try {
      await chown(ssh, u.uid, u.gid);
    } catch (err) {
      throw genericError(`failed to set ownership of directory '${shown}': ${strerror(err)}`, 'IO');
    }
    try {
      await chmod(ssh, 0o700);
    } catch (err) {
      throw genericError(`failed to set permissions of directory '${shown}': ${strerror(err)}`, 'IO');
    }
  }

  /** Lines joined by '\n' (no final newline, as qemu-ga writes), 0600, owned by the user, replaced atomically. */
  private async writeKeys(file: string, shown: string, lines: string[], u: PasswdEntry): Promise<void> {
    const { open, rename, unlink } = await fsPromises();
    const { randomBytes } = await import('node:crypto');
    const tmp = `${file}.guestlink-${randomBytes(6).toString('hex')}.tmp`;
    try {
      const fh = await open(tmp, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW, 0o600);
      try {
        await fh.writeFile(lines.join('\n'));
        await fh.chown(u.uid, u.gid);
        await fh.chmod(0o600);
        await fh.sync();
      } finally {
        await fh.close();
      }
      await rename(tmp, file);
    } catch (err) {
      await unlink(tmp).catch(() => {});
      throw genericError(`failed to write to '${shown}': ${strerror(err)}`, 'IO');
    }
  }

  async setPassword(user: string, password: string, crypted: boolean): Promise<void> {
    if (password.includes('\n')) throw genericError('forbidden characters in raw password', 'BAD_ARGUMENT');
    if (user.includes('\n') || user.includes(':')) throw genericError('forbidden characters in username', 'BAD_ARGUMENT');
    const program = this.opts.chpasswd ?? (await findChpasswd());
    if (!program) throw genericError("cannot find 'passwd' program in PATH", 'UNSUPPORTED');
    const args = [...(crypted ? ['-e'] : []), ...(this.root !== '/' ? ['-R', path.resolve(this.root)] : [])];
    const { spawn } = await import('node:child_process');
    const status = await new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve, reject) => {
      const child = spawn(program, args, { argv0: 'chpasswd', stdio: ['pipe', 'ignore', 'ignore'], shell: false, detached: true });
      child.once('error', (err) => reject(genericError(`cannot write new account password: ${strerror(err)}`, 'IO')));
      child.once('exit', (code, signal) => resolve({ code, signal }));
      child.stdin?.on('error', () => {});
      child.stdin?.end(`${user}:${password}\n`);
    });
    if (status.code === null) throw genericError('child process has terminated abnormally', 'CHILD_FAILED');
    if (status.code !== 0) throw genericError('child process has failed to set user password', 'CHILD_FAILED');
  }
}

async function findChpasswd(): Promise<string | undefined> {
  const { access } = await fsPromises();
  for (const dir of ['/usr/sbin', '/usr/bin', '/sbin', '/bin']) {
    const p = path.join(dir, 'chpasswd');
    try {
      await access(p, constants.X_OK);
      return p;
    } catch {}
  }
  return undefined;
}
