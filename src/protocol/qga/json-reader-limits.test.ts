// What the reader holds and how the agent drives it: tokens as offsets (bytes charged, not a Buffer each),
// stopping after an event and carrying on where it stopped, giving up a message (the agent's budget), the
// size of error texts, and the limits the agent derives from --max-request-bytes.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { type JsonEvent, type JsonLimits, JsonStreamReader, jsonLimits, maxMessageCharge, QEMU_JSON_LIMITS } from './json-stream.js';
import { INDEX_BYTES_PER_TOKEN, QUOTE_MAX_BYTES } from './json-token.js';
import { JsonFloat } from './json-value.js';

/** The events for one chunk of input. */
function read(input: string | Uint8Array, limits?: JsonLimits): JsonEvent[] {
  const out: JsonEvent[] = [];
  new JsonStreamReader((ev) => out.push(ev), limits).feed(typeof input === 'string' ? Buffer.from(input, 'latin1') : input);
  return out;
}
const errors = (evs: JsonEvent[]) => evs.map((e) => ('error' in e ? e.error : 'value'));

describe('JsonStreamReader memory', () => {
  it('charges an unfinished message its bytes plus 4 bytes a token, and nothing once it is done', () => {
    const r = new JsonStreamReader(() => {});
    const zeros = 100_000;
    r.feed(Buffer.from(`[${'0,'.repeat(zeros)}`));
    // '[' and 100,000 x ('0' ','): 200,001 tokens of one byte each.
    assert.equal(r.bufferedBytes, (2 * zeros + 1) * (1 + INDEX_BYTES_PER_TOKEN));
    r.feed(Buffer.from('0]'));
    assert.equal(r.bufferedBytes, 0);
  });

  it('a token that cannot fit the message is counted, not kept, and fails it as qemu does', () => {
    const limits = { ...QEMU_JSON_LIMITS, maxBytes: 1 << 20 };
    const r = new JsonStreamReader(() => {}, limits);
    const big = 'a'.repeat(600 << 10);
    r.feed(Buffer.from(`["${big}","${big}`));
    const text = (r as unknown as { tokens: { text: Buffer } }).tokens.text;
    assert.ok(text.length <= limits.maxBytes + QUOTE_MAX_BYTES, `text buffer ${text.length}`);
    assert.deepEqual(errors(read(`["${big}","${big}"]`, limits)), ['JSON token size limit exceeded', 'JSON parse error, expecting value']);
  });

  it('quotes at most 64 KiB of a stray token', () => {
    const [ev] = read(`"${'b'.repeat(100 << 10)}\x01`);
    const msg = (ev as { error: string }).error;
    assert.equal(msg, `JSON parse error, stray '"${'b'.repeat(QUOTE_MAX_BYTES - 1)}...'`);
    assert.deepEqual(errors(read('"ab\x01')), ["JSON parse error, stray '\"ab\x01'"]);
  });

  it('integers too long for 64 bits are floats, without BigInt (a 1 MB digit string)', () => {
    const [ev] = read(`[${'9'.repeat(1 << 20)}]`);
    const v = (ev as { value: unknown[] }).value;
    assert.ok(v[0] instanceof JsonFloat);
    assert.equal((v[0] as JsonFloat).value, Number.POSITIVE_INFINITY);
    const [small] = read('[18446744073709551615, -9223372036854775808, 18446744073709551616]');
    assert.deepEqual((small as { value: unknown[] }).value.slice(0, 2), [18446744073709551615n, -9223372036854775808n]);
    assert.ok((small as { value: unknown[] }).value[2] instanceof JsonFloat);
  });
});

describe('JsonStreamReader driven by the agent', () => {
  it('stops after an event whose handler returns false, and reads on from where it stopped: same events', () => {
    const atom = fc.constantFrom(
      '{"execute":"guest-ping"}',
      '{"execute":"guest-sync","arguments":{"id":18446744073709551615}}',
      '[1,2.5,"x"]',
      '123 ',
      'true ',
      '\xff',
      '{"a":',
      '}',
      'garbage',
      ' ',
      '"\\u00e9"',
    );
    fc.assert(
      fc.property(fc.array(atom, { maxLength: 30 }), fc.array(fc.boolean(), { maxLength: 40 }), fc.nat(64), (parts, stops, chunk) => {
        const bytes = Buffer.from(parts.join(''), 'latin1');
        const plain = read(bytes);
        const got: JsonEvent[] = [];
        let k = 0;
        const r = new JsonStreamReader((ev) => {
          got.push(ev);
          return stops[k++ % Math.max(1, stops.length)] !== true;
        });
        const size = chunk + 1;
        for (let i = 0; i < bytes.length; i += size) {
          const piece = bytes.subarray(i, i + size);
          let at = 0;
          while (at < piece.length) {
            // It stops only after an event (a number ended by the next byte stops before that byte).
            const events = got.length;
            const end = r.feed(piece, at);
            assert.ok(end > at || got.length > events, 'feed made progress');
            at = end;
          }
        }
        assert.deepStrictEqual(got, plain);
      }),
      { numRuns: 2000 },
    );
  });

  it('abandon() gives up the unfinished message with the reason and skips to the next structural byte', () => {
    const out: JsonEvent[] = [];
    const r = new JsonStreamReader((ev) => out.push(ev));
    assert.equal(r.abandon('nothing to give up'), false);
    r.feed(Buffer.from('{"execute":"guest-ping","id":"aaaa'));
    assert.ok(r.bufferedBytes > 0);
    assert.equal(r.abandon('over budget'), true);
    assert.equal(r.bufferedBytes, 0);
    // The rest of the string is skipped; the '}' that ends it is read afresh (an error, as after a stray byte).
    r.feed(Buffer.from('aaaa"}\n{"execute":"guest-ping"}'));
    assert.deepEqual(errors(out), ['over budget', 'JSON parse error, expecting value', 'value']);
  });
});

describe('jsonLimits', () => {
  it("keeps qemu's nesting, scales the token count with the size: 512k tokens at 64 MiB", () => {
    assert.deepEqual(jsonLimits(64 << 20), { maxBytes: 64 << 20, maxTokens: 512 << 10, maxNesting: 1024 });
    assert.deepEqual(jsonLimits(16 << 20), { maxBytes: 16 << 20, maxTokens: 128 << 10, maxNesting: 1024 });
    assert.equal(maxMessageCharge(jsonLimits(64 << 20)), (64 << 20) + (2 << 20));
  });

  it("a message over the scaled token count gets qemu's error text", () => {
    const limits = jsonLimits(1 << 20);
    assert.equal(limits.maxTokens, 8192);
    assert.equal(errors(read(`[${'0,'.repeat(5000)}0]`, limits))[0], 'JSON token count limit exceeded');
    assert.deepEqual(errors(read(`[${'0,'.repeat(4000)}0]`, limits)), ['value']);
  });
});
