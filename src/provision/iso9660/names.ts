// The three names each file gets: an ISO 9660 level-1 identifier (8.3 d-characters, what every reader
// understands), a Joliet identifier (UCS-2, what Windows and cloudbase-init read) and the Rock Ridge
// NM name (the POSIX name Linux shows, e.g. `user-data`). cloud-init on Linux finds its files by the
// Rock Ridge or Joliet name, so those carry the real name; the level-1 name is only a fallback.
import { IsoInputError } from './errors.js';

/** Joliet allows 64 UCS-2 characters in a name (Joliet specification, section 3.3). */
export const JOLIET_MAX_NAME = 64;
/** The UTF-8 bytes of a Rock Ridge name that fit one NM entry beside PX, TF and the level-1 id in a 255-byte record. */
export const RR_MAX_NAME_BYTES = 128;

// Joliet forbids these in names; '/' and NUL are never valid in a POSIX name either.
const FORBIDDEN = /[\x00-\x1f*/:;?\\]/;

/** Checks a file name once, so the three encodings below cannot fail later. */
export function checkName(name: string): void {
  if (name === '' || name === '.' || name === '..') throw new IsoInputError(`invalid file name "${name}"`);
  if (FORBIDDEN.test(name)) throw new IsoInputError(`file name "${name}" has a character Joliet forbids (control, * / : ; ? \\)`);
  if (name.length > JOLIET_MAX_NAME) throw new IsoInputError(`file name "${name}" is longer than Joliet's ${JOLIET_MAX_NAME} characters`);
  if (Buffer.byteLength(name, 'utf8') > RR_MAX_NAME_BYTES)
    throw new IsoInputError(`file name "${name}" is longer than ${RR_MAX_NAME_BYTES} bytes in UTF-8`);
  for (let i = 0; i < name.length; i++) {
    const u = name.charCodeAt(i);
    if (u >= 0xd800 && u <= 0xdfff) throw new IsoInputError(`file name "${name}" has a character outside UCS-2`);
  }
}

/** Level-1 identifiers (`USER_DAT.;1`) for names in order; clashes after truncation get a numeric tail. */
export function level1Identifiers(names: readonly string[]): string[] {
  const used = new Set<string>();
  return names.map((name) => {
    const dot = name.lastIndexOf('.');
    const rawBase = dot > 0 ? name.slice(0, dot) : name;
    const rawExt = dot > 0 ? name.slice(dot + 1) : '';
    const base = dchars(rawBase).slice(0, 8) || '_';
    const ext = dchars(rawExt).slice(0, 3);
    let candidate = base;
    for (let n = 1; used.has(`${candidate}.${ext}`); n++) {
      const tail = String(n);
      candidate = base.slice(0, 8 - tail.length) + tail;
    }
    used.add(`${candidate}.${ext}`);
    return `${candidate}.${ext};1`;
  });
}

/** 9.3: records are sorted by name then extension, each padded with spaces, then by version. */
export function compareLevel1(a: string, b: string): number {
  const [an, ae] = split(a);
  const [bn, be] = split(b);
  return cmp(an.padEnd(8), bn.padEnd(8)) || cmp(ae.padEnd(3), be.padEnd(3));
}

/** Joliet directories are sorted by the UCS-2 code units of their names. */
export function compareJoliet(a: string, b: string): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const d = a.charCodeAt(i) - b.charCodeAt(i);
    if (d !== 0) return d;
  }
  return a.length - b.length;
}

function dchars(s: string): string {
  return s.toUpperCase().replace(/[^A-Z0-9_]/g, '_');
}

function split(id: string): [string, string] {
  const bare = id.replace(/;\d+$/, '');
  const dot = bare.indexOf('.');
  return dot < 0 ? [bare, ''] : [bare.slice(0, dot), bare.slice(dot + 1)];
}

function cmp(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
