// guest-file-open's allow-lists (--allow-file-read / --allow-file-write). A path is checked after
// the kernel's own resolution (realpath; for a file still to be created, realpath of its parent),
// so neither a symlink nor '..' can lead outside the list; the resolved path is what gets opened.
import { lstat, realpath } from 'node:fs/promises';
import path from 'node:path';

/** Where a requested path really points, and whether it exists yet. */
export interface ResolvedPath {
  /** The canonical absolute path to open (symlinks and '..' resolved by the kernel). */
  real: string;
  /** False when the last component does not exist yet (a file to be created). */
  exists: boolean;
  /** Set when the path cannot be reached at all (a missing or unreadable parent): the errno to report. */
  error?: NodeJS.ErrnoException;
}

/**
 * Resolves `requested` (made absolute against `cwd`) without trusting its text: realpath of the
 * whole path, else realpath of the parent plus the last name. When even the parent cannot be
 * resolved, `real` is the lexical form and `error` says why opening will fail.
 */
export async function resolveForOpen(requested: string, cwd = '/'): Promise<ResolvedPath> {
  const abs = requested.startsWith('/') ? requested : `${cwd.replace(/\/+$/, '')}/${requested}`;
  try {
    return { real: await realpath(abs), exists: true };
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    if (e.code !== 'ENOENT') return { real: path.resolve(abs), exists: false, error: e };
  }
  // The last component is missing (or a dangling symlink): resolve the directory it would go in.
  const trimmed = abs.replace(/\/+$/, '');
  const base = trimmed.slice(trimmed.lastIndexOf('/') + 1);
  const dir = trimmed.slice(0, trimmed.lastIndexOf('/') + 1) || '/';
  if (base === '' || base === '.' || base === '..' || abs.endsWith('/')) {
    return { real: path.resolve(abs), exists: false, error: errnoError('ENOENT') };
  }
  try {
    const parent = await realpath(dir);
    const real = parent === '/' ? `/${base}` : `${parent}/${base}`;
    // A dangling symlink: opening never follows it (O_NOFOLLOW, O_EXCL), so report what the kernel would.
    if ((await lstat(real).catch(() => undefined))?.isSymbolicLink()) return { real, exists: false, error: errnoError('ELOOP') };
    return { real, exists: false };
  } catch (err) {
    return { real: path.resolve(abs), exists: false, error: err as NodeJS.ErrnoException };
  }
}

function errnoError(code: string): NodeJS.ErrnoException {
  return Object.assign(new Error(code), { code });
}

/**
 * An allow-list of absolute files and directories ('/dir/' allows everything below it). Entries
 * are canonicalised with realpath when they exist, so '/var/run/x/' also matches '/run/x/...'.
 */
export class PathAllowList {
  constructor(private readonly entries: readonly string[]) {}

  /** True when the list has no entries (the matching commands stay off). */
  get empty(): boolean {
    return this.entries.length === 0;
  }

  /** Does the list allow the canonical path `real`? */
  async allows(real: string): Promise<boolean> {
    for (const entry of this.entries) {
      if (!entry.startsWith('/')) continue;
      const isDir = entry.endsWith('/');
      const canon = await canonical(entry);
      if (isDir) {
        const prefix = canon === '/' ? '/' : `${canon}/`;
        if (real.startsWith(prefix) && real.length > prefix.length) return true;
      } else if (real === canon) {
        return true;
      }
    }
    return false;
  }
}

async function canonical(entry: string): Promise<string> {
  const lexical = path.resolve(entry);
  try {
    return await realpath(lexical);
  } catch {
    return lexical;
  }
}
