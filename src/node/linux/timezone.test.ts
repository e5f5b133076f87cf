import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { localTimezone, parsePosixTz, parseTzif, posixTypeAt, zoneAt } from './timezone.js';

/** Builds a version-2 TZif file with the given types, transitions and footer. */
function tzif(
  types: { utoff: number; isdst: boolean; abbr: string }[],
  transitions: { at: number; type: number }[],
  footer: string,
): Buffer {
  let chars = '';
  const idx: number[] = [];
  for (const t of types) {
    idx.push(chars.length);
    chars += `${t.abbr}\0`;
  }
  const header = (timecnt: number, typecnt: number, charcnt: number) => {
    const h = Buffer.alloc(44);
    h.write('TZif2', 0, 'latin1');
    h.writeUInt32BE(timecnt, 32);
    h.writeUInt32BE(typecnt, 36);
    h.writeUInt32BE(charcnt, 40);
    return h;
  };
  const block = (tsize: 4 | 8) => {
    const times = Buffer.alloc(transitions.length * tsize);
    transitions.forEach((t, i) => {
      if (tsize === 8) times.writeBigInt64BE(BigInt(t.at), i * 8);
      else times.writeInt32BE(t.at, i * 4);
    });
    const ttinfo = Buffer.alloc(types.length * 6);
    types.forEach((t, i) => {
      ttinfo.writeInt32BE(t.utoff, i * 6);
      ttinfo[i * 6 + 4] = t.isdst ? 1 : 0;
      ttinfo[i * 6 + 5] = idx[i] ?? 0;
    });
    return Buffer.concat([
      header(transitions.length, types.length, chars.length),
      times,
      Buffer.from(transitions.map((t) => t.type)),
      ttinfo,
      Buffer.from(chars, 'latin1'),
    ]);
  };
  return Buffer.concat([block(4), block(8), Buffer.from(`\n${footer}\n`, 'latin1')]);
}

const cet = { utoff: 3600, isdst: false, abbr: 'CET' };
const cest = { utoff: 7200, isdst: true, abbr: 'CEST' };

describe('time zone from TZif', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'gl-tz-'));
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('uses the transition table, then the footer rule past its end', () => {
    const info = parseTzif(
      tzif(
        [cet, cest],
        [
          { at: 1000, type: 1 },
          { at: 2000, type: 0 },
        ],
        'CET-1CEST,M3.5.0,M10.5.0/3',
      ),
    );
    assert.ok(info);
    assert.deepEqual(zoneAt(info, 500), { zone: 'CET', offsetSeconds: 3600 });
    assert.deepEqual(zoneAt(info, 1500), { zone: 'CEST', offsetSeconds: 7200 });
    const t = (iso: string) => Date.parse(iso) / 1000;
    assert.deepEqual(zoneAt(info, t('2031-07-01T00:00:00Z')), { zone: 'CEST', offsetSeconds: 7200 });
    assert.deepEqual(zoneAt(info, t('2031-12-01T00:00:00Z')), { zone: 'CET', offsetSeconds: 3600 });
  });

  it('parses POSIX TZ strings with angle-bracket names and explicit DST offsets', () => {
    assert.deepEqual(parsePosixTz('<+03>-3'), { std: { abbr: '+03', utoff: 10800, isdst: false } });
    assert.deepEqual(parsePosixTz('EST5EDT,M3.2.0,M11.1.0')?.dst, { abbr: 'EDT', utoff: -14400, isdst: true });
    assert.deepEqual(parsePosixTz('IST-5:30')?.std, { abbr: 'IST', utoff: 19800, isdst: false });
  });

  it('reads zoneinfo/<id> under the root, falls back to etc/localtime, then UTC', () => {
    mkdirSync(path.join(dir, 'usr/share/zoneinfo/Europe'), { recursive: true });
    mkdirSync(path.join(dir, 'etc'), { recursive: true });
    writeFileSync(
      path.join(dir, 'usr/share/zoneinfo/Europe/Berlin'),
      tzif([cet, cest], [{ at: 0, type: 0 }], 'CET-1CEST,M3.5.0,M10.5.0/3'),
    );
    const winter = () => new Date('2026-01-15T12:00:00Z');
    const summer = () => new Date('2026-07-15T12:00:00Z');
    assert.deepEqual(localTimezone({ root: dir, zoneId: 'Europe/Berlin', now: winter }), { zone: 'CET', offsetSeconds: 3600 });
    assert.deepEqual(localTimezone({ root: dir, zoneId: 'Europe/Berlin', now: summer }), { zone: 'CEST', offsetSeconds: 7200 });
    assert.deepEqual(localTimezone({ root: dir, zoneId: 'Nowhere/None', now: winter }), { zone: 'UTC', offsetSeconds: 0 });
    writeFileSync(path.join(dir, 'etc/localtime'), tzif([{ utoff: 19800, isdst: false, abbr: 'IST' }], [], 'IST-5:30'));
    assert.deepEqual(localTimezone({ root: dir, zoneId: 'Nowhere/None', now: winter }), { zone: 'IST', offsetSeconds: 19800 });
  });

  it('evaluates POSIX rules at their exact switch instants, both hemispheres', () => {
    const t = (iso: string) => Date.parse(iso) / 1000;
    const eu = parsePosixTz('CET-1CEST,M3.5.0,M10.5.0/3');
    assert.ok(eu);
    // 2026: last Sunday of March is the 29th, 01:00 UTC; last Sunday of October the 25th, 01:00 UTC.
    assert.equal(posixTypeAt(eu, t('2026-03-29T00:59:59Z')).abbr, 'CET');
    assert.equal(posixTypeAt(eu, t('2026-03-29T01:00:00Z')).abbr, 'CEST');
    assert.equal(posixTypeAt(eu, t('2026-10-25T00:59:59Z')).abbr, 'CEST');
    assert.equal(posixTypeAt(eu, t('2026-10-25T01:00:00Z')).abbr, 'CET');
    const au = parsePosixTz('AEST-10AEDT,M10.1.0,M4.1.0/3');
    assert.ok(au);
    assert.equal(posixTypeAt(au, t('2026-01-10T00:00:00Z')).abbr, 'AEDT');
    assert.equal(posixTypeAt(au, t('2026-07-10T00:00:00Z')).abbr, 'AEST');
    const us = parsePosixTz('EST5EDT');
    assert.ok(us);
    assert.equal(posixTypeAt(us, t('2026-07-01T00:00:00Z')).utoff, -14400);
    const julian = parsePosixTz('XST3XDT,J60/0,J300/0');
    assert.ok(julian);
    assert.equal(posixTypeAt(julian, t('2028-03-01T03:00:00Z')).abbr, 'XDT'); // J60 is March 1st even in a leap year
    assert.equal(posixTypeAt(julian, t('2028-02-29T12:00:00Z')).abbr, 'XST');
  });

  it('honours a TZ value: zone name, :name, POSIX string, unknown -> UTC', () => {
    const winter = () => new Date('2026-01-15T12:00:00Z');
    assert.deepEqual(localTimezone({ root: dir, tz: 'Europe/Berlin', now: winter }), { zone: 'CET', offsetSeconds: 3600 });
    assert.deepEqual(localTimezone({ root: dir, tz: ':Europe/Berlin', now: winter }), { zone: 'CET', offsetSeconds: 3600 });
    assert.deepEqual(localTimezone({ root: dir, tz: '<+03>-3', now: winter }), { zone: '+03', offsetSeconds: 10800 });
    assert.deepEqual(localTimezone({ root: dir, tz: 'EST5EDT,M3.2.0,M11.1.0', now: () => new Date('2026-07-01T00:00:00Z') }), {
      zone: 'EDT',
      offsetSeconds: -14400,
    });
    assert.deepEqual(localTimezone({ root: dir, tz: 'No/Such', now: winter }), { zone: 'UTC', offsetSeconds: 0 });
  });
});
