// go-yaml resolves plain scalars such as 2001-12-14 to timestamps through Go's time.Parse with four
// layouts; a string that parses must be quoted on output, and a timestamp in overlay options is written
// back in RFC 3339 (time.RFC3339Nano). This re-implements exactly those layouts' rules.

/** A parsed timestamp: wall-clock fields and the zone offset in seconds (0 for UTC and zone-less forms). */
export interface GoTime {
  year: number;
  month: number;
  day: number;
  hour: number;
  minute: number;
  second: number;
  nanos: number;
  offsetSeconds: number;
}

const LAYOUTS: readonly { sep: string | null; zone: boolean }[] = [
  { sep: 'T', zone: true }, // 2006-1-2T15:4:5.999999999Z07:00
  { sep: 't', zone: true }, // 2006-1-2t15:4:5.999999999Z07:00
  { sep: ' ', zone: false }, // 2006-1-2 15:4:5.999999999
  { sep: null, zone: false }, // 2006-1-2
];

const isDigit = (s: string, i: number) => i < s.length && s.charCodeAt(i) >= 48 && s.charCodeAt(i) <= 57;

/** Go's getnum(s, false): one or two digits. */
function num2(s: string): [number, string] | undefined {
  if (!isDigit(s, 0)) return undefined;
  if (!isDigit(s, 1)) return [Number(s[0]), s.slice(1)];
  return [Number(s.slice(0, 2)), s.slice(2)];
}

function daysIn(month: number, year: number): number {
  if (month === 2) return year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0) ? 29 : 28;
  return [4, 6, 9, 11].includes(month) ? 30 : 31;
}

/** A fractional second after the seconds (`.` or `,` then at most nine digits: a tenth is left over). */
function fraction(s: string): [number, string] {
  if (s.length < 2 || (s[0] !== '.' && s[0] !== ',') || !isDigit(s, 1)) return [0, s];
  let n = 1;
  while (n < 10 && isDigit(s, n)) n++;
  return [Number(s.slice(1, n).padEnd(9, '0')), s.slice(n)];
}

function tryLayout(input: string, layout: { sep: string | null; zone: boolean }): GoTime | undefined {
  let s = input;
  const year = Number(s.slice(0, 4));
  s = s.slice(4);
  if (s[0] !== '-') return undefined;
  const mo = num2(s.slice(1));
  if (!mo) return undefined;
  const [month, afterMonth] = mo;
  if (afterMonth[0] !== '-') return undefined;
  const d = num2(afterMonth.slice(1));
  if (!d) return undefined;
  const [day] = d;
  s = d[1];
  let hour = 0;
  let minute = 0;
  let second = 0;
  let nanos = 0;
  let offsetSeconds = 0;
  if (layout.sep !== null) {
    if (layout.sep === ' ') {
      // A space in a Go layout matches one or more spaces.
      if (s[0] !== ' ') return undefined;
      s = s.replace(/^ +/, '');
    } else if (s[0] !== layout.sep) return undefined;
    else s = s.slice(1);
    const h = num2(s);
    if (h?.[1][0] !== ':') return undefined;
    const m = num2(h[1].slice(1));
    if (m?.[1][0] !== ':') return undefined;
    const sec = num2(m[1].slice(1));
    if (!sec) return undefined;
    [hour, minute, second] = [h[0], m[0], sec[0]];
    [nanos, s] = fraction(sec[1]);
    if (layout.zone) {
      if (s[0] === 'Z') s = s.slice(1);
      else {
        if (s.length < 6 || s[3] !== ':' || (s[0] !== '+' && s[0] !== '-')) return undefined;
        if (!isDigit(s, 1) || !isDigit(s, 2) || !isDigit(s, 4) || !isDigit(s, 5)) return undefined;
        const zh = Number(s.slice(1, 3));
        const zm = Number(s.slice(4, 6));
        if (zh > 24 || zm > 60) return undefined;
        offsetSeconds = (s[0] === '-' ? -1 : 1) * (zh * 3600 + zm * 60);
        s = s.slice(6);
      }
    }
  }
  if (s !== '') return undefined;
  if (month < 1 || month > 12 || hour > 23 || minute > 59 || second > 59) return undefined;
  if (day < 1 || day > daysIn(month, year)) return undefined;
  return { year, month, day, hour, minute, second, nanos, offsetSeconds };
}

/** The timestamp a plain scalar denotes for go-yaml, or undefined when it is not one. */
export function parseGoTimestamp(s: string): GoTime | undefined {
  // go-yaml's quick check: exactly four digits, then '-'.
  if (!/^[0-9]{4}-/.test(s)) return undefined;
  for (const layout of LAYOUTS) {
    const t = tryLayout(s, layout);
    if (t) return t;
  }
  return undefined;
}

const pad = (n: number, w: number) => String(n).padStart(w, '0');

/** time.RFC3339Nano formatting: fraction without trailing zeros, Z for a zero offset. */
export function formatRfc3339Nano(t: GoTime): string {
  const frac = t.nanos ? `.${pad(t.nanos, 9).replace(/0+$/, '')}` : '';
  const off = Math.abs(t.offsetSeconds);
  const zone =
    t.offsetSeconds === 0
      ? 'Z'
      : `${t.offsetSeconds < 0 ? '-' : '+'}${pad(Math.floor(off / 3600), 2)}:${pad(Math.floor((off % 3600) / 60), 2)}`;
  return `${pad(t.year, 4)}-${pad(t.month, 2)}-${pad(t.day, 2)}T${pad(t.hour, 2)}:${pad(t.minute, 2)}:${pad(t.second, 2)}${frac}${zone}`;
}
