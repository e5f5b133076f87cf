// Opening beneath a root without the native addon (no openat2 from JavaScript): open the path with
// O_NOFOLLOW, then check what was really opened (the kernel's name for the fd in /proc/self/fd, and that
// the expected name has the same device and inode) and close it on a mismatch. A file this open created in
// the wrong place is unlinked again. Weaker than openat2: for the time between the create and the unlink, an
// empty 0600 file may exist outside the allow-list; nothing is ever read from or written to a wrong file.
import { constants, lstat, open, readlink, type Stats, unlink } from 'node:fs';
import { errnoCode } from '../../protocol/qga/errno-text.js';
import { errnoError, joinBeneath, NEW_FILE_MODE } from './open-flags.js';
import { fdCalls } from './opened-file.js';

const { O_CREAT, O_EXCL, O_NOFOLLOW } = constants;

const p = {
  open: (file: string, flags: number, mode: number) =>
    new Promise<number>((res, rej) => open(file, flags, mode, (err, fd) => (err ? rej(err) : res(fd)))),
  readlink: (file: string) => new Promise<string>((res, rej) => readlink(file, (err, s) => (err ? rej(err) : res(s)))),
  lstat: (file: string) => new Promise<Stats | undefined>((res) => lstat(file, (err, st) => res(err ? undefined : st))),
  unlink: (file: string) => new Promise<void>((res) => unlink(file, () => res())),
};

/** Opens `relative` beneath `root` (canonical) and proves it is there; the fd, or an ELOOP-coded error. */
export async function openVerified(root: string, relative: string, flags: number): Promise<number> {
  const want = joinBeneath(root, relative);
  let fd: number;
  let created = false;
  if (flags & O_CREAT) {
    // Exclusive first, so that a file made here is known to be ours (and is removed if it landed elsewhere).
    try {
      fd = await p.open(want, flags | O_EXCL | O_NOFOLLOW, NEW_FILE_MODE);
      created = true;
    } catch (err) {
      if (errnoCode(err) !== 'EEXIST') throw err;
      fd = await p.open(want, (flags & ~O_CREAT) | O_NOFOLLOW, 0);
    }
  } else {
    fd = await p.open(want, flags | O_NOFOLLOW, 0);
  }
  try {
    const st = await fdCalls.fstat(fd);
    const actual = await p.readlink(`/proc/self/fd/${fd}`);
    const named = await p.lstat(want);
    if (actual === want && named !== undefined && named.dev === st.dev && named.ino === st.ino) return fd;
    // It is somewhere else (a symlinked directory on the way, or a rename in between): undo a create there.
    if (created && actual.startsWith('/')) {
      const there = await p.lstat(actual);
      if (there !== undefined && there.dev === st.dev && there.ino === st.ino) await p.unlink(actual);
    }
    throw errnoError('ELOOP', `'${want}' was reached through a symbolic link or moved while it was opened`);
  } catch (err) {
    await fdCalls.close(fd).catch(() => {});
    throw err;
  }
}
