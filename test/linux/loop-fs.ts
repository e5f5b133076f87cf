// A loop-mounted ext4 of the test's own, for tests that freeze or fill a real filesystem: an image in
// a temp dir, mounted there, and a private root whose /proc/self/mountinfo lists ONLY that mount (so
// LinuxStorage never sees, freezes or thaws anything else on this machine). Needs root and loop devices.
import { spawnSync } from 'node:child_process';
import { closeSync, ftruncateSync, mkdirSync, mkdtempSync, openSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

/** A mounted test filesystem and how to get rid of it. */
export interface LoopFs {
  dir: string;
  mnt: string;
  /** The private root for LinuxStorage. */
  root: string;
  /** Thaws (if frozen), unmounts and removes everything. */
  cleanup(): void;
}

const run = (file: string, args: string[]) => spawnSync(file, args, { encoding: 'utf8', timeout: 30_000 });

/** Makes and mounts an ext4 image of `bytes`; returns why not (a string) where this machine cannot. */
export function mountLoopExt4(bytes: number, prefix = 'guestlink-loopfs-'): LoopFs | string {
  if (process.getuid?.() !== 0) return 'needs root for mount(2) and FIFREEZE';
  const dir = mkdtempSync(path.join(os.tmpdir(), prefix));
  const img = path.join(dir, 'ext4.img');
  const fd = openSync(img, 'w');
  ftruncateSync(fd, bytes);
  closeSync(fd);
  const mkfs = run('mkfs.ext4', ['-q', '-F', '-m', '0', img]);
  if (mkfs.status !== 0) {
    rmSync(dir, { recursive: true, force: true });
    return `mkfs.ext4 failed or is missing: ${mkfs.stderr || mkfs.error}`;
  }
  const mnt = path.join(dir, 'mnt');
  mkdirSync(mnt);
  const m = run('mount', ['-o', 'loop', img, mnt]);
  if (m.status !== 0) {
    rmSync(dir, { recursive: true, force: true });
    return `loop mount is not possible here: ${(m.stderr || String(m.error)).trim()}`;
  }
  const root = path.join(dir, 'root');
  mkdirSync(path.join(root, 'proc/self'), { recursive: true });
  const line = readFileSync('/proc/self/mountinfo', 'utf8')
    .split('\n')
    .find((l) => l.split(' ')[4] === mnt);
  writeFileSync(path.join(root, 'proc/self/mountinfo'), `${line}\n`);
  symlinkSync('/sys', path.join(root, 'sys'));
  symlinkSync('/run', path.join(root, 'run'));
  return {
    dir,
    mnt,
    root,
    cleanup: () => {
      // Never leave it frozen: thaw until EINVAL, then unmount (the loop device is released with it).
      for (let i = 0; i < 8 && run('fsfreeze', ['-u', mnt]).status === 0; i++);
      run('umount', [mnt]);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/**
 * Starts a child that writes a file on `mnt`. A writer on a frozen filesystem sleeps until the thaw,
 * so nothing waits on it synchronously: `blocked` says whether it was still writing after 500 ms;
 * `done` settles once it has exited.
 */
export async function probeWrite(mnt: string): Promise<{ blocked: boolean; done: Promise<void> }> {
  const { spawn } = await import('node:child_process');
  const child = spawn(process.execPath, ['-e', `require('fs').writeFileSync(${JSON.stringify(path.join(mnt, 'probe'))}, 'x')`], {
    stdio: 'ignore',
  });
  const done = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const blocked = await Promise.race([done.then(() => false), new Promise<boolean>((r) => setTimeout(() => r(true), 500))]);
  return { blocked, done };
}
