// The local time zone as qemu-ga reports it (GLib's g_time_zone_new_local): the abbreviation in
// effect now ("UTC", "CET", "EDT", "+03") and its offset east of UTC in seconds, read from the TZif file.
import path from 'node:path';
import type { Timezone } from '../interfaces.js';
import { readBytesOrUndefined } from './fs-raw.js';

interface TimeType {
  utoff: number;
  isdst: boolean;
  abbr: string;
}

/** What a TZif file says about one instant: the type in effect, or the footer rule's names when past the table. */
export interface TzifInfo {
  types: TimeType[];
  transitions: { at: number; type: number }[];
  footer: string;
}

/** Parses a TZif file (RFC 8536, versions 1-4); the 64-bit block when present. Returns undefined when malformed. */
export function parseTzif(b: Buffer): TzifInfo | undefined {
  if (b.length < 44 || b.toString('latin1', 0, 4) !== 'TZif') return undefined;
  const header = (off: number) => ({
    version: b[off + 4] ?? 0,
    isutcnt: b.readUInt32BE(off + 20),
    isstdcnt: b.readUInt32BE(off + 24),
    leapcnt: b.readUInt32BE(off + 28),
    timecnt: b.readUInt32BE(off + 32),
    typecnt: b.readUInt32BE(off + 36),
    charcnt: b.readUInt32BE(off + 40),
  });
  const size = (h: ReturnType<typeof header>, t: number) =>
    h.timecnt * t + h.timecnt + h.typecnt * 6 + h.charcnt + h.leapcnt * (t + 4) + h.isstdcnt + h.isutcnt;
  let h = header(0);
  let off = 44;
  let tsize = 4;
  if (h.version >= 0x32) {
    off += size(h, 4);
    h = header(off);
    off += 44;
    tsize = 8;
  }
  try {
    const transitions: { at: number; type: number }[] = [];
    const idxBase = off + h.timecnt * tsize;
    for (let i = 0; i < h.timecnt; i++) {
      const at = tsize === 8 ? Number(b.readBigInt64BE(off + i * 8)) : b.readInt32BE(off + i * 4);
      transitions.push({ at, type: b[idxBase + i] ?? 0 });
    }
    const typesBase = idxBase + h.timecnt;
    const charsBase = typesBase + h.typecnt * 6;
    const types: TimeType[] = [];
    for (let i = 0; i < h.typecnt; i++) {
      const o = typesBase + i * 6;
      const ai = b[o + 5] ?? 0;
      const end = b.indexOf(0, charsBase + ai);
      types.push({
        utoff: b.readInt32BE(o),
        isdst: b[o + 4] === 1,
        abbr: b.toString('latin1', charsBase + ai, end < 0 ? charsBase + h.charcnt : end),
      });
    }
    let footer = '';
    if (tsize === 8) {
      const fstart = off + size(h, 8);
      if (b[fstart] === 0x0a) {
        const fend = b.indexOf(0x0a, fstart + 1);
        if (fend > fstart) footer = b.toString('latin1', fstart + 1, fend);
      }
    }
    return types.length > 0 ? { types, transitions, footer } : undefined;
  } catch {
    return undefined;
  }
}

/** A POSIX TZ rule date: Mm.w.d, Jn (1-365, no Feb 29) or n (0-365), plus the local time of day in seconds. */
interface RuleDate {
  kind: 'M' | 'J' | 'n';
  m: number;
  w: number;
  d: number;
  n: number;
  time: number;
}

/** A parsed POSIX TZ string: standard and optional daylight parts, offsets east of UTC in seconds. */
export interface PosixTz {
  std: TimeType;
  dst?: TimeType;
  start?: RuleDate;
  end?: RuleDate;
}

const NAME = '(<[^>]*>|[A-Za-z]{3,})';
const OFFSET = '([+-]?\\d{1,3}(?::\\d{1,2}(?::\\d{1,2})?)?)';
const POSIX_TZ = new RegExp(`^${NAME}${OFFSET}(?:${NAME}${OFFSET}?(?:,([^,]+),([^,]+))?)?$`);

function seconds(s: string): number {
  const neg = s.startsWith('-');
  const [hh = 0, mm = 0, ss = 0] = s.replace(/^[+-]/, '').split(':').map(Number);
  const v = hh * 3600 + mm * 60 + ss;
  return neg ? -v : v;
}

function ruleDate(s: string): RuleDate | undefined {
  const [date = '', time] = s.split('/');
  const t = time === undefined ? 7200 : seconds(time);
  let m: RegExpExecArray | null = /^M(\d{1,2})\.(\d)\.(\d)$/.exec(date);
  if (m) return { kind: 'M', m: Number(m[1]), w: Number(m[2]), d: Number(m[3]), n: 0, time: t };
  m = /^J(\d{1,3})$/.exec(date);
  if (m) return { kind: 'J', m: 0, w: 0, d: 0, n: Number(m[1]), time: t };
  m = /^(\d{1,3})$/.exec(date);
  if (m) return { kind: 'n', m: 0, w: 0, d: 0, n: Number(m[1]), time: t };
  return undefined;
}

/** Parses a POSIX TZ string ("CET-1CEST,M3.5.0,M10.5.0/3", "<+03>-3"); undefined when malformed. */
export function parsePosixTz(tz: string): PosixTz | undefined {
  const m = POSIX_TZ.exec(tz);
  if (!m) return undefined;
  const name = (x: string) => x.replace(/^<(.*)>$/, '$1');
  const std = { abbr: name(m[1] as string), utoff: -seconds(m[2] as string), isdst: false };
  if (!m[3]) return { std };
  const dst = { abbr: name(m[3]), utoff: m[4] ? -seconds(m[4]) : std.utoff + 3600, isdst: true };
  // Without rules, the US rules (the usual POSIX default).
  const start = ruleDate(m[5] ?? 'M3.2.0');
  const end = ruleDate(m[6] ?? 'M11.1.0');
  if (!start || !end) return undefined;
  return { std, dst, start, end };
}

const isLeap = (y: number) => (y % 4 === 0 && y % 100 !== 0) || y % 400 === 0;

/** Seconds since the epoch of a rule date's local wall time in year y, counted as if it were UTC. */
function ruleLocal(r: RuleDate, y: number): number {
  const jan1 = Date.UTC(y, 0, 1) / 1000;
  let day: number;
  if (r.kind === 'J') day = r.n - 1 + (isLeap(y) && r.n >= 60 ? 1 : 0);
  else if (r.kind === 'n') day = r.n;
  else {
    const first = new Date(Date.UTC(y, r.m - 1, 1));
    const dim = new Date(Date.UTC(y, r.m, 0)).getUTCDate();
    let dom = 1 + ((r.d - first.getUTCDay() + 7) % 7) + (r.w - 1) * 7;
    while (dom > dim) dom -= 7;
    day = (Date.UTC(y, r.m - 1, dom) / 1000 - jan1) / 86400;
  }
  return jan1 + day * 86400 + r.time;
}

/** The part of a POSIX TZ rule in effect at `t` (seconds since the epoch). */
export function posixTypeAt(tz: PosixTz, t: number): TimeType {
  const { std, dst, start, end } = tz;
  if (!dst || !start || !end) return std;
  const y = new Date((t + std.utoff) * 1000).getUTCFullYear();
  const s = ruleLocal(start, y) - std.utoff; // start is given in standard local time
  const e = ruleLocal(end, y) - dst.utoff; // end is given in daylight local time
  const inDst = s < e ? t >= s && t < e : !(t >= e && t < s);
  return inDst ? dst : std;
}

/** The zone in effect at `nowSec` per a TZif file: the transition table, past its end the footer rule. */
export function zoneAt(info: TzifInfo, nowSec: number): Timezone {
  const { types, transitions, footer } = info;
  const last = transitions[transitions.length - 1];
  if (footer && (!last || nowSec >= last.at)) {
    const rule = parsePosixTz(footer);
    if (rule) {
      const t = posixTypeAt(rule, nowSec);
      return { zone: t.abbr || undefined, offsetSeconds: t.utoff };
    }
  }
  let type = types[0] as TimeType;
  for (const tr of transitions) {
    if (tr.at > nowSec) break;
    type = types[tr.type] ?? type;
  }
  return { zone: type.abbr || undefined, offsetSeconds: type.utoff };
}

/** Options for reading the zone: the TZ variable's value if set, ICU's zone id, and the clock (for tests). */
export interface TimezoneOptions {
  root: string;
  /** The process's TZ environment variable, as GLib reads it (passed in: library code does not read env). */
  tz?: string;
  zoneId?: string;
  now?: () => Date;
}

/**
 * The local zone as GLib resolves it: TZ (a zoneinfo name, an absolute TZif path or a POSIX TZ string)
 * when set, else /etc/localtime (ICU's zone id first, which names the same file), else UTC.
 */
export function localTimezone(opts: TimezoneOptions): Timezone {
  const nowSec = Math.floor((opts.now?.() ?? new Date()).getTime() / 1000);
  const fromFile = (file: string) => {
    const bytes = readBytesOrUndefined(file);
    const info = bytes && parseTzif(bytes);
    return info ? zoneAt(info, nowSec) : undefined;
  };
  const zoneinfo = (id: string) =>
    id && !id.split('/').includes('..') ? fromFile(path.join(opts.root, 'usr/share/zoneinfo', id)) : undefined;
  if (opts.tz) {
    const tz = opts.tz.replace(/^:/, '');
    const hit = path.isAbsolute(tz) ? fromFile(path.join(opts.root, tz)) : zoneinfo(tz);
    if (hit) return hit;
    const rule = parsePosixTz(tz);
    if (rule) {
      const t = posixTypeAt(rule, nowSec);
      return { zone: t.abbr || undefined, offsetSeconds: t.utoff };
    }
    return { zone: 'UTC', offsetSeconds: 0 };
  }
  return (
    zoneinfo(opts.zoneId ?? Intl.DateTimeFormat().resolvedOptions().timeZone) ??
    fromFile(path.join(opts.root, 'etc/localtime')) ?? { zone: 'UTC', offsetSeconds: 0 }
  );
}
