// Small synchronous file primitives with the syscall semantics qemu-ga relies on: directory entries
// in the kernel's readdir order (fs.readdirSync sorts them), and pread/pwrite of a few bytes at 0.
import { closeSync, constants, opendirSync, openSync, readFileSync, readSync, writeSync } from 'node:fs';

/** One directory entry as readdir(3) returns it. */
export interface RawDirent {
  name: string;
  isDirectory: boolean;
}

/** Entries of a directory in readdir order (what g_dir_read_name/readdir give qemu-ga). Throws on open errors. */
export function readdirRaw(dir: string): RawDirent[] {
  const d = opendirSync(dir, { bufferSize: 256 });
  const out: RawDirent[] = [];
  try {
    for (let e = d.readSync(); e !== null; e = d.readSync()) out.push({ name: e.name, isDirectory: e.isDirectory() });
  } finally {
    d.closeSync();
  }
  return out;
}

const scratch = Buffer.alloc(64);

/** Reads at most `max` bytes from offset 0 (open + pread + close); '' at EOF. */
export function preadSmall(file: string, max: number): string {
  const fd = openSync(file, constants.O_RDONLY);
  try {
    const buf = max <= scratch.length ? scratch : Buffer.alloc(max);
    const n = readSync(fd, buf, 0, max, 0);
    return buf.toString('latin1', 0, n);
  } finally {
    closeSync(fd);
  }
}

/** Opens a directory as open(O_RDONLY|O_DIRECTORY) does, then closes it: throws ENOENT/ENOTDIR/EACCES like the syscall. */
export function probeDir(dir: string): void {
  closeSync(openSync(dir, constants.O_RDONLY | constants.O_DIRECTORY));
}

/** Writes `text` at offset 0 of an existing file (open O_WRONLY + pwrite), as sysfs attributes want. */
export function pwriteSmall(file: string, text: string): void {
  const fd = openSync(file, constants.O_WRONLY);
  try {
    writeSync(fd, text, 0, 'latin1');
  } finally {
    closeSync(fd);
  }
}

/** Whole small text file, or undefined when it cannot be read. */
export function readTextOrUndefined(file: string): string | undefined {
  try {
    return readFileSync(file, 'utf8');
  } catch {
    return undefined;
  }
}

/** Whole small binary file, or undefined when it cannot be read. */
export function readBytesOrUndefined(file: string): Buffer | undefined {
  try {
    return readFileSync(file);
  } catch {
    return undefined;
  }
}
