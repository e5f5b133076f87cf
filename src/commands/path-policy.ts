// guest-file-open's allow-lists (--allow-file-read / --allow-file-write), as pure path arithmetic: which
// allow-listed directory a requested path falls under, and the rest of the path beneath it. Nothing is
// resolved here; the node layer opens the rest beneath the directory without following any symlink
// (FileAccess.openBeneath), so no symlink, '..' or rename inside the tree can lead outside it. '..' is
// refused outright; entries are matched as written and in their canonical form (their own symlinks
// resolved by FileAccess.canonical: '/var/run/x/' also covers '/run/x/...').

/** A requested path split at the allow-listed directory it falls under. */
export interface Beneath {
  /** The directory to open beneath: the entry's canonical path (as written when it does not exist). */
  root: string;
  /** The rest, '/'-separated names without '.', '..' or empty ones. */
  relative: string;
  /** How many names of the request the entry covered: the deeper root wins when two lists match. */
  depth: number;
}

/** The names of a requested path ('' and '.' dropped; relative paths start at '/', the agent's cwd), or undefined when it has '..'. */
export function requestedNames(requested: string): string[] | undefined {
  const names = requested.split('/').filter((n) => n !== '' && n !== '.');
  return names.includes('..') ? undefined : names;
}

/** An allow-list entry's names, '..' applied lexically (entries are the administrator's absolute paths). */
function entryNames(entry: string): string[] {
  const out: string[] = [];
  for (const n of entry.split('/')) {
    if (n === '..') out.pop();
    else if (n !== '' && n !== '.') out.push(n);
  }
  return out;
}

const startsWith = (names: readonly string[], prefix: readonly string[]) => prefix.every((p, i) => names[i] === p);
const pathOf = (names: readonly string[]) => `/${names.join('/')}`;

/**
 * An allow-list of absolute files and directories ('/dir/' allows everything below it, not the directory
 * itself). `canonical` resolves an entry's own symlinks (I/O: the node layer's FileAccess.canonical).
 */
export class PathAllowList {
  constructor(private readonly entries: readonly string[]) {}

  /** True when the list has no entries (the matching commands stay off). */
  get empty(): boolean {
    return this.entries.length === 0;
  }

  /** Where `names` (from requestedNames) falls under this list, the deepest entry first; undefined when nowhere. */
  async locate(names: readonly string[], canonical: (entry: string) => Promise<string | undefined>): Promise<Beneath | undefined> {
    let best: Beneath | undefined;
    for (const entry of this.entries) {
      if (!entry.startsWith('/')) continue;
      const isDir = entry.endsWith('/');
      const lexical = entryNames(entry);
      const canon = await canonical(entry);
      const canonNames = canon === undefined ? undefined : entryNames(canon);
      for (const form of canonNames && canonNames.join('/') !== lexical.join('/') ? [lexical, canonNames] : [lexical]) {
        if (best !== undefined && form.length <= best.depth) continue;
        const target = canonNames ?? lexical;
        if (isDir && names.length > form.length && startsWith(names, form)) {
          best = { root: pathOf(target), relative: names.slice(form.length).join('/'), depth: form.length };
        } else if (!isDir && target.length > 0 && names.length === form.length && startsWith(names, form)) {
          // A file entry opens as its (canonical) parent directory plus its name.
          best = { root: pathOf(target.slice(0, -1)), relative: target[target.length - 1] as string, depth: form.length };
        }
      }
    }
    return best;
  }
}
