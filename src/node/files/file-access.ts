// The one FileAccess of every back end (Linux and Talos alike: the agent opens files on the node's own
// filesystem): opens beneath an allow-listed root through the native addon (openat2, else an openat walk),
// or, without the addon, with an open verified after the fact (verified-open.ts). Then refuses a file with
// other hard links unless allowed, and only then truncates for the 'w' modes.
import { ftruncate, realpath } from 'node:fs';
import path from 'node:path';
import type { GuestlinkNative } from '../../native/addon.js';
import { errnoCode } from '../../protocol/qga/errno-text.js';
import type { FileAccess, FileOpenMode, FileOpenOptions, OpenedFile } from '../interfaces.js';
import { errnoError, joinBeneath, NEW_FILE_MODE, openFlags, plainComponents } from './open-flags.js';
import { FdFile, fdCalls } from './opened-file.js';
import { openVerified } from './verified-open.js';

export interface FileAccessOptions {
  /** The native addon (loadNative()); undefined, or an addon built before openBeneath: verify after opening. */
  native: Pick<GuestlinkNative, 'openBeneath' | 'openat2Supported'> | undefined;
  /**
   * Test only: the openat walk even where the kernel has openat2, to exercise the path a kernel before 5.6
   * takes. Nothing in the agent sets it.
   */
  walk?: boolean;
}

const realpathP = (p: string) => new Promise<string>((res, rej) => realpath(p, (err, r) => (err ? rej(err) : res(r))));
const ftruncateP = (fd: number) => new Promise<void>((res, rej) => ftruncate(fd, 0, (err) => (err ? rej(err) : res())));

/** Makes the FileAccess; which method it uses is fixed here and shown as `method`. */
export function createFileAccess(opts: FileAccessOptions): FileAccess {
  const openBeneath = opts.native?.openBeneath?.bind(opts.native);
  const walk = opts.walk === true || opts.native?.openat2Supported?.() === false;
  const method = openBeneath ? (walk ? 'openat-walk' : 'openat2') : 'verify-after-open';
  const openFd = openBeneath
    ? (root: string, relative: string, flags: number) => openBeneath(root, relative, flags, NEW_FILE_MODE, opts.walk === true)
    : openVerified;

  return {
    method,

    async canonical(entry: string): Promise<string | undefined> {
      const lexical = path.resolve(entry);
      try {
        return await realpathP(lexical);
      } catch (err) {
        if (entry.endsWith('/') || errnoCode(err) !== 'ENOENT' || lexical === '/') return undefined;
      }
      try {
        return joinBeneath(await realpathP(path.dirname(lexical)), path.basename(lexical));
      } catch {
        return undefined;
      }
    },

    async openBeneath(root: string, relative: string, mode: FileOpenMode, o: FileOpenOptions): Promise<OpenedFile> {
      if (!path.isAbsolute(root) || plainComponents(relative) === undefined)
        throw errnoError('EINVAL', `cannot open '${relative}' beneath '${root}': not a plain relative path`);
      const fd = await openFd(root, relative, openFlags(mode));
      try {
        const st = await fdCalls.fstat(fd);
        if (!st.isDirectory() && st.nlink > 1 && !o.allowHardLinks)
          throw Object.assign(errnoError('EMLINK', `'${joinBeneath(root, relative)}' has ${st.nlink} hard links`), { links: st.nlink });
        if (mode.truncate && st.isFile() && st.size > 0) {
          await ftruncateP(fd);
          st.size = 0;
        }
        return new FdFile(fd, joinBeneath(root, relative), mode, st);
      } catch (err) {
        await fdCalls.close(fd).catch(() => {});
        throw err;
      }
    },
  };
}
