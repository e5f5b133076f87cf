// Long strings are decoded in parts while they arrive (json-token.ts, json-string.ts): whatever the cuts,
// the value and the error must be those of the whole string decoded at once (json-parser.c's parse_string).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { type JsonEvent, JsonStreamReader } from './json-stream.js';
import { decodeStringPart, StringError } from './json-string.js';

/** The whole string decoded at once: the reference. */
function wholeValue(body: Buffer): JsonEvent {
  const text = Buffer.concat([Buffer.from('"'), body, Buffer.from('"')]);
  const end = text.length - 1;
  const v = decodeStringPart(text, 1, end, end, text.length).value;
  return v instanceof StringError ? { error: `JSON parse error, ${v.error}` } : { value: v };
}

/** The string as a message, fed in the given chunk sizes (cycled). */
function streamed(body: Buffer, sizes: number[]): JsonEvent[] {
  const msg = Buffer.concat([Buffer.from('"'), body, Buffer.from('" ')]);
  const out: JsonEvent[] = [];
  const r = new JsonStreamReader((ev) => out.push(ev));
  let at = 0;
  for (let k = 0; at < msg.length; k++) {
    const n = Math.max(1, sizes[k % sizes.length] as number);
    r.feed(msg.subarray(at, at + n));
    at += n;
  }
  return out;
}

// Units of a string body, valid and not: ASCII runs, escapes, surrogate pairs, raw UTF-8 of 2-4 bytes, qemu's C0 80.
const utf8 = (s: string) => Buffer.from(s, 'utf8');
const bytes = (s: string) => Buffer.from(s, 'latin1');
const VALID = [
  ...['abc', 'x', '\\n', '\\"', '\\\\', '\\/', '\\u00e9', '\\u0100', '\\uD83D\\uDE00', '\\u0000'].map(bytes),
  ...['é', '€', '😀'].map(utf8),
  bytes('\xc0\x80'),
];
const INVALID = ['\\x', '\\uD83D', '\\uZZZZ', '\\uFFFF', '\xc3(', '\x80', '\xed\xa0\x80'].map(bytes);
const unit = (units: Buffer[]) => fc.constantFrom(...units);

/** A body of about `approx` bytes: runs of one unit repeated, so that the units straddle part boundaries everywhere. */
const body = (approx: number, bad: boolean) =>
  fc
    .array(
      fc.tuple(bad ? fc.oneof({ weight: 20, arbitrary: unit(VALID) }, { weight: 1, arbitrary: unit(INVALID) }) : unit(VALID), fc.nat(2000)),
      {
        minLength: 1,
        maxLength: 40,
      },
    )
    .map((runs) => {
      const bufs: Buffer[] = [];
      let n = 0;
      for (let k = 0; n < approx; k++) {
        const [u, times] = runs[k % runs.length] as [Buffer, number];
        for (let t = 0; t <= times && n < approx; t++) {
          bufs.push(u);
          n += u.length;
        }
      }
      return Buffer.concat(bufs);
    });

describe('strings decoded in parts', () => {
  it('give the value and the first error of the whole string, for any cuts (bodies of 0.4 to 1.2 MB)', () => {
    fc.assert(
      fc.property(
        fc.tuple(fc.integer({ min: 400_000, max: 1_200_000 }), fc.boolean()).chain(([n, bad]) => body(n, bad)),
        fc.array(fc.integer({ min: 1, max: 300_000 }), { minLength: 1, maxLength: 5 }),
        (b, sizes) => {
          assert.deepStrictEqual(streamed(b, sizes), [wholeValue(b)]);
        },
      ),
      { numRuns: 25 },
    );
  });

  it('keep a surrogate pair, a UTF-8 character and C0 80 whole at every offset around a part boundary', () => {
    for (const tail of [bytes('\\uD83D\\uDE00'), utf8('😀'), utf8('€'), bytes('\xc0\x80'), bytes('\\u00e9')]) {
      for (let pad = 320 * 1024 - 40; pad < 320 * 1024 + 40; pad += 3) {
        const b = Buffer.concat([Buffer.alloc(pad, 0x61), tail, Buffer.from('z')]);
        const want = [wholeValue(b)];
        assert.ok('value' in (want[0] as JsonEvent), tail.toString('latin1'));
        assert.deepStrictEqual(streamed(b, [b.length + 2]), want, `${tail.toString('latin1')} at ${pad}`);
        assert.deepStrictEqual(streamed(b, [65536]), want, `${tail.toString('latin1')} at ${pad}, 64 KiB chunks`);
      }
    }
  });

  it('report the first error when a later part has another one', () => {
    const big = Buffer.alloc(700 * 1024, 0x61);
    const first = Buffer.concat([Buffer.from('\xc3(', 'latin1'), big, Buffer.from('\\x')]);
    assert.deepStrictEqual(streamed(first, [4096]), [{ error: 'JSON parse error, invalid UTF-8 sequence in string' }]);
    const second = Buffer.concat([Buffer.from('\\q'), big, Buffer.from('\xc3(', 'latin1')]);
    assert.deepStrictEqual(streamed(second, [4096]), [{ error: 'JSON parse error, invalid escape sequence in string' }]);
    const badEscape = Buffer.concat([big, Buffer.from('\\uD83Dx')]);
    assert.deepStrictEqual(streamed(badEscape, [100_000]), [{ error: 'JSON parse error, \\uD83D is not a valid Unicode character' }]);
  });

  it('a string of 32 MiB of escapes: the value is right (no cons-string per escape)', () => {
    const b = Buffer.from('\\n'.repeat(16 << 20));
    const evs = streamed(b, [65536]);
    assert.equal(evs.length, 1);
    const v = (evs[0] as { value: string }).value;
    assert.equal(v.length, 16 << 20);
    assert.equal(v.replaceAll('\n', ''), '');
  });
});
