// FIFREEZE / FITHAW / FITRIM on a mounted filesystem: through the native addon when it is built,
// else through util-linux `fsfreeze` and `fstrim` (spawned without a shell). Failures carry the
// errno name in `code` and glibc's strerror text as message, so callers can word them like qemu-ga.
import { accessSync, constants } from 'node:fs';
import type { FileHandle } from 'node:fs/promises';
import type { GuestlinkNative } from '../../native/addon.js';
import { strerror } from '../../protocol/qga/errno-text.js';
import { fsPromises } from './fs-promises.js';
import { type CommandResult, runCommand } from './run-command.js';

/** A failed system call: `op` is what failed ('open', 'FIFREEZE', ...), `code` the errno name. */
export class FsOpError extends Error {
  constructor(
    readonly op: string,
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = 'FsOpError';
  }
}

/** No addon and no util-linux tool: the operation cannot be done at all. */
export class FsOpUnavailable extends Error {}

/** How fs-ioctl reaches the kernel; tests substitute fakes. */
export interface FsIoctlDeps {
  native?: GuestlinkNative;
  /** Absolute path of a system tool, or undefined when absent. */
  which?: (name: string) => string | undefined;
  run?: (file: string, args: readonly string[]) => Promise<CommandResult>;
}

const TOOL_DIRS = ['/sbin', '/usr/sbin', '/bin', '/usr/bin'];

/** Finds fsfreeze/fstrim in the system directories (not $PATH: an agent's PATH may be minimal). */
export function whichTool(name: string): string | undefined {
  for (const dir of TOOL_DIRS) {
    try {
      accessSync(`${dir}/${name}`, constants.X_OK);
      return `${dir}/${name}`;
    } catch {}
  }
  return undefined;
}

const CODE_BY_TEXT: [string, string][] = [
  ['Operation not supported', 'EOPNOTSUPP'],
  ['not supported', 'EOPNOTSUPP'],
  ['Device or resource busy', 'EBUSY'],
  ['Invalid argument', 'EINVAL'],
  ['Inappropriate ioctl for device', 'ENOTTY'],
  ['Operation not permitted', 'EPERM'],
  ['Permission denied', 'EACCES'],
  ['No such file or directory', 'ENOENT'],
  ['Read-only file system', 'EROFS'],
];

/** util-linux prints "<tool>: <path>: <what> failed: <strerror>": recover the errno name and text. */
function toolError(op: string, res: CommandResult): FsOpError {
  const line = res.stderr.trim().split('\n').pop() ?? '';
  const text = line.includes(': ') ? line.slice(line.lastIndexOf(': ') + 2) : line || `exit status ${res.code}`;
  const code = CODE_BY_TEXT.find(([t]) => line.includes(t))?.[1] ?? 'EIO';
  return new FsOpError(op, code, code === 'EOPNOTSUPP' && !text.includes('Operation') ? 'Operation not supported' : text);
}

/** Operations on one mount point. */
export class FsIoctl {
  private readonly which: (name: string) => string | undefined;
  private readonly run: (file: string, args: readonly string[]) => Promise<CommandResult>;

  constructor(private readonly deps: FsIoctlDeps = {}) {
    this.which = deps.which ?? whichTool;
    this.run = deps.run ?? ((f, a) => runCommand(f, a, { timeoutMs: 30 * 60_000 }));
  }

  private async withFd<T>(mountpoint: string, fn: (fd: number) => T): Promise<T> {
    let fh: FileHandle;
    try {
      fh = await (await fsPromises()).open(mountpoint, constants.O_RDONLY);
    } catch (err) {
      throw new FsOpError('open', (err as NodeJS.ErrnoException).code ?? 'EIO', strerror(err));
    }
    try {
      return fn(fh.fd);
    } catch (err) {
      const e = err as NodeJS.ErrnoException & { syscall?: string };
      throw new FsOpError(e.syscall ?? 'ioctl', e.code ?? 'EIO', e.message);
    } finally {
      await fh.close();
    }
  }

  private tool(name: string, what: string): string {
    const t = this.which(name);
    if (!t) throw new FsOpUnavailable(`${what} needs the guestlink native addon (build/Release/guestlink.node) or util-linux ${name}`);
    return t;
  }

  /** FIFREEZE. */
  async freeze(mountpoint: string): Promise<void> {
    const n = this.deps.native;
    if (n) return this.withFd(mountpoint, (fd) => n.fsFreeze(fd));
    const res = await this.run(this.tool('fsfreeze', 'fsfreeze'), ['-f', mountpoint]);
    if (res.code !== 0) throw toolError('FIFREEZE', res);
  }

  /** One FITHAW. */
  async thawOnce(mountpoint: string): Promise<void> {
    const n = this.deps.native;
    if (n) return this.withFd(mountpoint, (fd) => n.fsThaw(fd));
    const res = await this.run(this.tool('fsfreeze', 'fsfreeze'), ['-u', mountpoint]);
    if (res.code !== 0) throw toolError('FITHAW', res);
  }

  /** FITRIM of the whole filesystem; `minimum` as the kernel used it (the tool cannot tell: the request). */
  async trim(mountpoint: string, minimum: number): Promise<{ trimmed: bigint; minimum: bigint }> {
    const n = this.deps.native;
    if (n) return this.withFd(mountpoint, (fd) => n.fsTrim(fd, minimum));
    const res = await this.run(this.tool('fstrim', 'fstrim'), ['-v', '-m', String(minimum), mountpoint]);
    if (res.code !== 0) throw toolError('FITRIM', res);
    // "/mnt: 1.2 GiB (1288490188 bytes) trimmed"
    const m = /\((\d+) bytes\)/.exec(res.stdout);
    return { trimmed: BigInt(m?.[1] ?? 0), minimum: BigInt(minimum) };
  }
}
