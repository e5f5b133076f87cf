import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { putPadded, putRecordDate, putU16Both, putU32Both, putUcs2Padded, putVolumeDate, ucs2be } from './fields.js';

describe('ECMA-119 field encodings', () => {
  it('both-endian numbers: little-endian half first, then big-endian (7.2.3, 7.3.3)', () => {
    const b = Buffer.alloc(12);
    putU16Both(b, 0, 0x0800);
    putU32Both(b, 4, 0x01020304);
    assert.deepEqual([...b], [0x00, 0x08, 0x08, 0x00, 0x04, 0x03, 0x02, 0x01, 0x01, 0x02, 0x03, 0x04]);
  });
  it('text fields are space-padded; too long is refused', () => {
    const b = Buffer.alloc(8, 0xff);
    putPadded(b, 0, 8, 'ab');
    assert.equal(b.toString('latin1'), 'ab      ');
    assert.throws(() => putPadded(b, 0, 2, 'abc'), RangeError);
  });
  it('Joliet text is UCS-2 big-endian padded with U+0020, an odd width ends in 0x00', () => {
    const b = Buffer.alloc(7, 0xff);
    putUcs2Padded(b, 0, 7, 'a');
    assert.deepEqual([...b], [0x00, 0x61, 0x00, 0x20, 0x00, 0x20, 0x00]);
    assert.throws(() => ucs2be('\u{1F600}'), /outside UCS-2/);
  });
  it('volume dates: 16 digits in UTC and a zero offset; "not specified" is all zeros (8.4.26.1)', () => {
    const b = Buffer.alloc(17, 0xff);
    putVolumeDate(b, 0, new Date('2030-01-02T03:04:05.067+02:00'));
    assert.equal(b.toString('latin1', 0, 16), '2030010201040506');
    assert.equal(b[16], 0);
    putVolumeDate(b, 0, undefined);
    assert.equal(b.toString('latin1', 0, 16), '0000000000000000');
  });
  it('record dates: years since 1900, month 1-12, day, time, offset 0 (9.1.5)', () => {
    const b = Buffer.alloc(7);
    putRecordDate(b, 0, new Date('2026-11-23T12:34:56Z'));
    assert.deepEqual([...b], [126, 11, 23, 12, 34, 56, 0]);
  });
});
