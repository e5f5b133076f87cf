// The operational key and certificate on disk, under <statedir>/crypto/ (0700): operational.key and
// operational.pem (0600), and, while a request waits for approval, pending.key and pending.json, so
// an agent restarted meanwhile keeps waiting on the same CSR instead of filing a new one for the
// operator to approve. Every write goes to a new file (O_EXCL, O_NOFOLLOW, 0600), is synced and
// renamed over the old one: a crash never leaves half a key, and a planted symlink is never followed.
// A key file others could read is not used (a new key is made instead).
import {
  closeSync,
  constants,
  fstatSync,
  fsyncSync,
  lstatSync,
  mkdirSync,
  openSync,
  readFileSync,
  renameSync,
  rmSync,
  writeSync,
} from 'node:fs';
import path from 'node:path';
import { KubeError } from './errors.js';

/** The request a restarted agent can pick up again. */
export interface PendingRequest {
  name: string;
  uid: string;
  keyPem: string;
}

const O_READ = constants.O_RDONLY | constants.O_NOFOLLOW;
const O_NEW = constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW;

export class CryptoStore {
  readonly dir: string;

  constructor(statedir: string) {
    this.dir = path.join(statedir, 'crypto');
  }

  /** Creates the directory (0700) and refuses one that is a symlink or that others may write to. */
  prepare(): void {
    mkdirSync(this.dir, { recursive: true, mode: 0o700 });
    const st = lstatSync(this.dir);
    if (!st.isDirectory()) throw new KubeError('KUBE_CRYPTO_FILES', `${this.dir} is not a directory (a symlink?): remove it`);
    if (st.mode & 0o022 || (process.getuid && st.uid !== process.getuid()))
      throw new KubeError('KUBE_CRYPTO_FILES', `${this.dir} may be written by others: make it owned by the agent's user with mode 0700`);
  }

  /** The stored key and certificate, or undefined when either is missing or unsafe (then a new one is requested). */
  loadCurrent(onUnsafe: (why: string) => void): { keyPem: string; certPem: string } | undefined {
    const keyPem = this.read('operational.key', onUnsafe);
    const certPem = this.read('operational.pem', onUnsafe);
    return keyPem && certPem ? { keyPem, certPem } : undefined;
  }

  saveCurrent(keyPem: string, certPem: string): void {
    this.write('operational.key', keyPem);
    this.write('operational.pem', certPem);
  }

  loadPending(onUnsafe: (why: string) => void): PendingRequest | undefined {
    const keyPem = this.read('pending.key', onUnsafe);
    const meta = this.read('pending.json', onUnsafe);
    if (!keyPem || !meta) return undefined;
    try {
      const m = JSON.parse(meta) as { name?: unknown; uid?: unknown };
      if (typeof m.name === 'string' && typeof m.uid === 'string') return { name: m.name, uid: m.uid, keyPem };
    } catch {}
    onUnsafe('pending.json is not valid');
    return undefined;
  }

  savePending(p: PendingRequest): void {
    this.write('pending.key', p.keyPem);
    this.write('pending.json', JSON.stringify({ name: p.name, uid: p.uid }));
  }

  clearPending(): void {
    for (const f of ['pending.key', 'pending.json']) rmSync(path.join(this.dir, f), { force: true });
  }

  private read(name: string, onUnsafe: (why: string) => void): string | undefined {
    const file = path.join(this.dir, name);
    let fd: number;
    try {
      fd = openSync(file, O_READ);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code !== 'ENOENT') onUnsafe(`${file}: ${code === 'ELOOP' ? 'is a symlink' : (err as Error).message}`);
      return undefined;
    }
    try {
      const st = fstatSync(fd);
      if (!st.isFile()) return void onUnsafe(`${file} is not a regular file`);
      if (st.mode & 0o077) return void onUnsafe(`${file} is readable by others (mode ${(st.mode & 0o777).toString(8)})`);
      if (st.size > 1 << 20) return void onUnsafe(`${file} is larger than 1 MiB`);
      return readFileSync(fd, 'utf8');
    } finally {
      closeSync(fd);
    }
  }

  private write(name: string, data: string): void {
    const file = path.join(this.dir, name);
    const tmp = `${file}.${process.pid}.${Date.now()}.tmp`;
    const fd = openSync(tmp, O_NEW, 0o600);
    try {
      const buf = Buffer.from(data);
      for (let off = 0; off < buf.length; ) off += writeSync(fd, buf, off);
      fsyncSync(fd);
    } catch (err) {
      closeSync(fd);
      rmSync(tmp, { force: true });
      throw err;
    }
    closeSync(fd);
    renameSync(tmp, file);
    const dirFd = openSync(this.dir, constants.O_RDONLY);
    try {
      fsyncSync(dirFd);
    } finally {
      closeSync(dirFd);
    }
  }
}
