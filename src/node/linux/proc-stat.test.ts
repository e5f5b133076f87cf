import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseDiskstats, parseLoadavg, parseProcStat } from './proc-stat.js';

describe('/proc/stat', () => {
  it('skips the total line, converts ticks to milliseconds, keeps only the members the format has', () => {
    const text = [
      'cpu  7844 0 4535 203191 265 0 67 10 0 0',
      'cpu0 3625 1 2221 102125 18 0 11 3 0 0',
      'cpu1 4219 0 2314 101065',
      'intr 12345 0 0',
      'ctxt 99',
    ].join('\n');
    assert.deepEqual(parseProcStat(text), [
      { cpu: 0, user: 36250, nice: 10, system: 22210, idle: 1021250, iowait: 180, irq: 0, softirq: 110, steal: 30, guest: 0, guestnice: 0 },
      { cpu: 1, user: 42190, nice: 0, system: 23140, idle: 1010650 },
    ]);
  });
});

describe('/proc/diskstats', () => {
  it('maps the 20-field format to GuestDiskStats names', () => {
    const line = ' 254       0 vda 13679 6726 1901338 5595 2450 10626 805016 1901 0 2132 7686 3622 42 78288 186 101 3';
    assert.deepEqual(parseDiskstats(line), [
      {
        name: 'vda',
        major: 254,
        minor: 0,
        stats: {
          readIos: 13679,
          readMerges: 6726,
          readSectors: 1901338,
          readTicks: 5595,
          writeIos: 2450,
          writeMerges: 10626,
          writeSectors: 805016,
          writeTicks: 1901,
          iosPgr: 0,
          totalTicks: 2132,
          weightTicks: 7686,
          discardIos: 3622,
          discardMerges: 42,
          discardSectors: 78288,
          discardTicks: 186,
          flushIos: 101,
          flushTicks: 3,
        },
      },
    ]);
  });

  it('handles the old 4-counter partition format, 14- and 18-field lines, and skips short lines', () => {
    const text = [
      '3 1 hda1 10 20 30 40',
      '8 0 sda 1 2 3 4 5 6 7 8 9 10 11',
      '8 16 sdb 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15',
      'garbage',
      '1 2',
    ].join('\n');
    const r = parseDiskstats(text);
    assert.deepEqual(r[0], { name: 'hda1', major: 3, minor: 1, stats: { readIos: 10, readSectors: 20, writeIos: 30, writeSectors: 40 } });
    assert.equal(Object.keys(r[1]?.stats ?? {}).length, 11);
    assert.equal(r[1]?.stats.weightTicks, 11);
    assert.equal(r[2]?.stats.discardTicks, 15);
    assert.equal(r[2]?.stats.flushIos, undefined);
    assert.equal(r.length, 3);
  });

  it('keeps 64-bit counters exact and wraps 32-bit tick fields like qemu-ga', () => {
    const big = '18446744073709551615';
    const [d] = parseDiskstats(`8 0 sda ${big} 0 0 0 0 0 0 4294967297 0 0 0`);
    assert.equal(d?.stats.readIos, 18446744073709551615n);
    assert.equal(d?.stats.writeTicks, 1);
  });
});

describe('/proc/loadavg', () => {
  it('reads the three averages', () => {
    assert.deepEqual(parseLoadavg('0.95 0.53 0.24 1/123 4567\n'), { load1m: 0.95, load5m: 0.53, load15m: 0.24 });
    assert.throws(() => parseLoadavg('garbage'));
  });
});
