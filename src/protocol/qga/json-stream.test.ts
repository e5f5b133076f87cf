// Unit tests for the streaming reader. Expected texts come from the real qemu-ga 7.2
// (the differential suite in test/peer/protocol.test.ts compares them live).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { type JsonEvent, type JsonLimits, JsonStreamReader, QEMU_JSON_LIMITS } from './json-stream.js';
import { JsonFloat } from './json-value.js';

function read(chunks: (string | Uint8Array)[], limits?: JsonLimits): JsonEvent[] {
  const out: JsonEvent[] = [];
  const r = new JsonStreamReader((ev) => out.push(ev), limits);
  for (const c of chunks) r.feed(typeof c === 'string' ? Buffer.from(c, 'latin1') : c);
  return out;
}
const errorsOf = (evs: JsonEvent[]) => evs.map((e) => ('error' in e ? e.error : 'value'));
const onlyValue = (evs: JsonEvent[]) => {
  assert.equal(evs.length, 1, JSON.stringify(errorsOf(evs)));
  const e = evs[0] as JsonEvent;
  assert.ok('value' in e, 'error' in e ? e.error : '');
  return e.value;
};

describe('JsonStreamReader framing', () => {
  it('reuses its token scratch without mixing tokens: long strings, long escape runs, many small messages', () => {
    const long = 'x'.repeat(300_000); // past the scratch: joined from chunks
    const escapes = '\\n'.repeat(70_000); // grows the scratch past 64 KiB, which is then dropped
    const text = `{"a":"${long}"}{"b":"${escapes}"}${'{"execute":"guest-ping","id":"k"}'.repeat(50)}`;
    for (const size of [7, 4096, 65536, text.length]) {
      const chunks: string[] = [];
      for (let i = 0; i < text.length; i += size) chunks.push(text.slice(i, i + size));
      const evs = read(chunks);
      assert.equal(evs.length, 52);
      assert.deepEqual(
        evs.map((e) => JSON.stringify('value' in e ? e.value : e.error)),
        [JSON.stringify({ a: long }), JSON.stringify({ b: '\n'.repeat(70_000) }), ...Array(50).fill('{"execute":"guest-ping","id":"k"}')],
      );
    }
  });

  it('keeps "__proto__" as an ordinary member of a parsed object, which inherits nothing', () => {
    const v = onlyValue(read(['{"__proto__":{"x":1},"toString":2}'])) as Record<string, unknown>;
    assert.deepEqual(Object.keys(v), ['__proto__', 'toString']);
    assert.equal(JSON.stringify(v), '{"__proto__":{"x":1},"toString":2}');
    const empty = onlyValue(read(['{}'])) as Record<string, unknown>;
    assert.equal(empty.toString, undefined);
    assert.equal('hasOwnProperty' in empty, false);
  });

  it('emits one value per complete top-level object, however the bytes are split', () => {
    const text = '{"execute":"guest-sync","arguments":{"id":7}}';
    for (let cut = 1; cut < text.length; cut++) {
      const v = onlyValue(read([text.slice(0, cut), text.slice(cut)]));
      assert.deepEqual(JSON.parse(JSON.stringify(v)), { execute: 'guest-sync', arguments: { id: 7 } });
    }
  });

  it('emits two values for two objects in one chunk, no newline needed', () => {
    const evs = read(['{"a":1}{"b":2}']);
    assert.equal(evs.length, 2);
  });

  it('emits nothing for an incomplete object', () => {
    assert.deepEqual(read(['{"execute":"guest-ping"']), []);
  });

  it('reports 0xFF as a stray byte and starts over', () => {
    assert.deepEqual(errorsOf(read([Buffer.from([0xff]), '{"a":1}'])), ["JSON parse error, stray '\uFFFD'", 'value']);
  });

  it('0xFF in the middle of an object discards it', () => {
    assert.deepEqual(errorsOf(read([Buffer.from('{"a":'), Buffer.from([0xff]), '{"b":1}'])), ["JSON parse error, stray '\uFFFD'", 'value']);
  });

  it('reset() drops a half-read request', () => {
    const out: JsonEvent[] = [];
    const r = new JsonStreamReader((ev) => out.push(ev));
    r.feed(Buffer.from('{"execute":"guest-'));
    r.reset();
    r.feed(Buffer.from('{"execute":"guest-ping"}'));
    assert.equal(out.length, 1);
    assert.deepEqual(JSON.parse(JSON.stringify(onlyValue(out))), { execute: 'guest-ping' });
  });

  it('a stray token is reported with the bytes before it, then recovery skips to a structural byte', () => {
    assert.deepEqual(errorsOf(read(['{"execute": guest-ping}\n'])), ["JSON parse error, stray '-p'", 'JSON parse error, expecting value']);
  });

  it('a newline inside a string is a stray byte', () => {
    assert.deepEqual(errorsOf(read(['{"id":"abc\n'])), ["JSON parse error, stray '\"abc\n'"]);
  });
});

describe('JsonStreamReader values', () => {
  it('keeps integers beyond 2^53 exact and makes floats of integers beyond uint64', () => {
    const v = onlyValue(
      read(['[9007199254740993, -9223372036854775808, 18446744073709551615, 18446744073709551616, 1.5, 1e400]']),
    ) as unknown[];
    assert.equal(v[0], 9007199254740993n);
    assert.equal(v[1], -9223372036854775808n);
    assert.equal(v[2], 18446744073709551615n);
    assert.ok(v[3] instanceof JsonFloat);
    assert.equal((v[3] as JsonFloat).value, 2 ** 64);
    assert.deepEqual(v[4], new JsonFloat(1.5));
    assert.equal((v[5] as JsonFloat).value, Number.POSITIVE_INFINITY);
  });

  it('accepts single-quoted strings and their escapes', () => {
    assert.equal(onlyValue(read(["'it\\'s \"x\"'"])), 'it\'s "x"');
  });

  it('decodes \\u escapes and surrogate pairs; \\u0000 is allowed', () => {
    assert.equal(onlyValue(read(['"\\u00e9\\uD83D\\uDE00\\u0000"'])), 'é😀\u0000');
  });

  it('accepts the modified-UTF-8 NUL (C0 80)', () => {
    assert.equal(onlyValue(read([Buffer.from([0x22, 0x61, 0xc0, 0x80, 0x62, 0x22])])), 'a\u0000b');
  });

  it('refuses invalid UTF-8 and noncharacters like qemu', () => {
    for (const bad of [
      [0xc3, 0x28],
      [0x80],
      [0xc1, 0xbf],
      [0xed, 0xa0, 0x80],
      [0xef, 0xb7, 0x90],
      [0xef, 0xbf, 0xbe],
      [0xf0, 0x9f, 0xbf, 0xbf],
    ]) {
      assert.deepEqual(
        errorsOf(read([Buffer.from([0x22, ...bad, 0x22])])),
        ['JSON parse error, invalid UTF-8 sequence in string'],
        String(bad),
      );
    }
  });

  it('names a bad \\u escape as qemu does, including a closing quote it ran into', () => {
    assert.deepEqual(errorsOf(read(['"\\uD83D"'])), ['JSON parse error, \\uD83D is not a valid Unicode character']);
    assert.deepEqual(errorsOf(read(['"\\u12"'])), ['JSON parse error, \\u12" is not a valid Unicode character']);
    assert.deepEqual(errorsOf(read(['"\\uFFFF"'])), ['JSON parse error, \\uFFFF is not a valid Unicode character']);
    assert.deepEqual(errorsOf(read(['"\\uDBFF\\uDFFF"'])), ['JSON parse error, \\uDBFF\\uDFFF is not a valid Unicode character']);
  });

  it('parser errors use json-parser.c wording', () => {
    const cases: [string, string][] = [
      ['{"a":1,}', 'JSON parse error, expecting value'],
      ['{"a" 1}', 'JSON parse error, missing : in object pair'],
      ['{1:2}', 'JSON parse error, key is not a string in object'],
      ['[1 2]', 'JSON parse error, expected separator in list'],
      ['{"a":1 "b":2}', 'JSON parse error, expected separator in dict'],
      ['{"a":1,"a":2}', 'JSON parse error, duplicate key'],
      ['[tru]', "JSON parse error, invalid keyword 'tru'"],
      ['["\\x"]', 'JSON parse error, invalid escape sequence in string'],
    ];
    for (const [text, msg] of cases) assert.deepEqual(errorsOf(read([text])), [msg], text);
  });
});

describe('JsonStreamReader limits', () => {
  it('nesting beyond the limit is an error', () => {
    const evs = read([`${'['.repeat(1025)}`]);
    assert.equal(errorsOf(evs)[0], 'JSON nesting depth limit exceeded');
    assert.ok(Array.isArray(onlyValue(read([`${'['.repeat(1024)}${']'.repeat(1024)}`]))));
  });

  it('a token is cut the moment it is one byte over the size limit; the rest is read afresh', () => {
    const limits = { ...QEMU_JSON_LIMITS, maxBytes: 16 };
    // The string token '"' + 16 x 'a' reaches 17 bytes: cut; the 17th 'a' is then a keyword.
    const evs = read([`"${'a'.repeat(17)}"`], limits);
    assert.deepEqual(errorsOf(evs).slice(0, 2), ['JSON token size limit exceeded', "JSON parse error, invalid keyword 'a'"]);
  });

  it('the same cut happens whether the token arrives in one chunk or byte by byte', () => {
    const limits = { ...QEMU_JSON_LIMITS, maxBytes: 16 };
    const text = `{"id":"${'b'.repeat(40)}"}{"x":1}`;
    const whole = errorsOf(read([text], limits));
    const bytes = errorsOf(read([...text], limits));
    assert.deepEqual(bytes, whole);
    assert.equal(whole[0], 'JSON token size limit exceeded');
  });

  it('too many tokens is an error', () => {
    const limits = { ...QEMU_JSON_LIMITS, maxTokens: 10 };
    assert.equal(errorsOf(read(['[1,2,3,4,5,6,7]'], limits))[0], 'JSON token count limit exceeded');
  });
});

// The fast path for simple messages (JsonStreamReader.simpleMessage) must hand on exactly what the byte-wise
// lexer and parser do, for every input and every chunking: the same values (prototype, -0 and all), the same
// errors, in the same order.
describe('JsonStreamReader fast path', () => {
  const both = (chunks: (string | Uint8Array)[]) => {
    const slow: JsonEvent[] = [];
    const fast: JsonEvent[] = [];
    const a = new JsonStreamReader((ev) => slow.push(ev), QEMU_JSON_LIMITS, { fastPath: false });
    const b = new JsonStreamReader((ev) => fast.push(ev));
    for (const c of chunks) {
      const buf = typeof c === 'string' ? Buffer.from(c, 'latin1') : c;
      a.feed(buf);
      b.feed(buf);
    }
    return { slow, fast };
  };
  const same = (chunks: (string | Uint8Array)[]) => {
    const { slow, fast } = both(chunks);
    assert.deepStrictEqual(fast, slow, JSON.stringify(chunks));
    return fast;
  };

  it('reads the usual requests, with the same values the lexer makes', () => {
    const evs = same([
      '{"execute":"guest-ping"}\n',
      '\xff{"execute":"guest-sync-delimited","arguments":{"id":1234567}}\n',
      ' {"execute" : "guest-exec-status", "arguments": {"pid": 0}, "id": -0}\r\n',
      '{"a":{"b":{"c":{"d":true}}},"e":false,"f":null,"g":""}',
    ]);
    assert.equal(evs.length, 5); // the 0xFF is an error event, as in qemu
    const last = evs[4] as { value: Record<string, unknown> };
    assert.equal(Object.getPrototypeOf(last.value), Object.getPrototypeOf(onlyValue(read(['{}']))));
    assert.ok(Object.is((evs[3] as { value: { id: number } }).value.id, -0));
  });

  it('hands over to the lexer for what it does not take, at every place', () => {
    for (const text of [
      '{"id":1234567890123456}', // 16 digits: may need a bigint
      '{"id":123456789012345}',
      '{"id":01}',
      '{"id":1.5}',
      '{"id":1e3}',
      '{"id":-}',
      '{"id":tru}',
      '{"id":truex}',
      '{"id":nul}',
      '{"a":1,"a":2}',
      '{"a":[1]}',
      "{'a':1}",
      '{"a\\n":1}',
      '{"\u00e9":1}',
      '{"caf\xc3\xa9":1}',
      '{"a":"\x01"}',
      '{"a":{"b":{"c":{"d":{"e":1}}}}}', // deeper than the fast path goes
      '{"a":1,}',
      '{"a" 1}',
      '{,}',
      '{"a":1}}',
      '{"a":1}garbage{"b":2}',
      '\xff\xff{"a":1}',
      '{"a":1',
    ]) {
      same([text]);
      for (let cut = 1; cut < text.length; cut++) same([text.slice(0, cut), text.slice(cut)]);
    }
  });

  it('matches the lexer on random inputs in random chunkings', () => {
    const atom = fc.oneof(
      fc.constantFrom('{', '}', '[', ']', ':', ',', ' ', '\n', '\xff', '"', "'", '\\', '-', '0', '.', 'e'),
      fc.constantFrom('"execute"', '"arguments"', '"id"', '"guest-ping"', 'true', 'false', 'null', 'nul', '1e5', '"\\u0041"'),
      fc.integer({ min: -(10 ** 16), max: 10 ** 16 }).map(String),
      fc.string({ maxLength: 6 }).map((x) => JSON.stringify(x)),
      fc.uint8Array({ maxLength: 3 }).map((b) => Buffer.from(b).toString('latin1')),
    );
    const simpleValue: fc.Arbitrary<unknown> = fc.letrec((tie) => ({
      value: fc.oneof(
        { depthSize: 'small' },
        fc.string({ maxLength: 8 }),
        fc.integer({ min: -(10 ** 15), max: 10 ** 15 }),
        fc.boolean(),
        fc.constant(null),
        tie('object'),
      ),
      object: fc.dictionary(fc.string({ maxLength: 6 }), tie('value'), { maxKeys: 4 }),
    })).object;
    const message = fc.oneof(
      simpleValue.map((v) => JSON.stringify(v)),
      fc.array(atom, { maxLength: 20 }).map((a) => a.join('')),
      fc
        .tuple(
          simpleValue.map((v) => JSON.stringify(v)),
          fc.array(atom, { maxLength: 3 }),
        )
        .map(([m, a]) => {
          const at = a.length === 0 ? 0 : m.length >> 1;
          return m.slice(0, at) + a.join('') + m.slice(at);
        }),
    );
    fc.assert(
      fc.property(fc.array(message, { minLength: 1, maxLength: 6 }), fc.array(fc.nat(), { maxLength: 8 }), (msgs, cuts) => {
        const text = msgs.join(' ');
        const bytes = Buffer.from(text, 'latin1');
        const at = [...new Set(cuts.map((c) => c % (bytes.length + 1)))].sort((x, y) => x - y);
        const chunks: Uint8Array[] = [];
        let prev = 0;
        for (const c of [...at, bytes.length]) {
          chunks.push(bytes.subarray(prev, c));
          prev = c;
        }
        same(chunks);
      }),
      { numRuns: 3000 },
    );
  });

  it('stays off when the limits could cut a message it would take', () => {
    const limits = { ...QEMU_JSON_LIMITS, maxBytes: 16 };
    const text = '{"execute":"guest-ping"}';
    assert.deepEqual(errorsOf(read([text], limits)), errorsOf(read([...text], limits)));
    assert.equal(errorsOf(read([text], limits))[0], 'JSON token size limit exceeded');
  });
});

describe('JsonStreamReader repeated messages (json-fast-path.ts remembers the last flat one)', () => {
  const ping = '{"execute":"guest-ping"}';

  it('hands the same bytes on as the same frozen value and event, within a chunk and across feeds', () => {
    const evs: JsonEvent[] = [];
    const r = new JsonStreamReader((ev) => evs.push(ev));
    r.feed(Buffer.from(`${ping}\n${ping}\n`));
    r.feed(Buffer.from(`${ping}\n`));
    assert.equal(evs.length, 3);
    assert.ok(evs[0] === evs[1] && evs[1] === evs[2], 'one event object for the repeated message');
    const v = onlyValue([evs[0] as JsonEvent]);
    assert.ok(Object.isFrozen(v) && Object.isFrozen(evs[0]));
    assert.deepEqual(JSON.parse(JSON.stringify(v)), { execute: 'guest-ping' });
  });

  it('remembers only flat messages: a request with arguments is a new, unfrozen value each time', () => {
    const text = '{"execute":"guest-sync","arguments":{"id":1}}';
    const [a, b] = read([text + text]).map(onlyValueOf);
    assert.notEqual(a, b);
    assert.equal(Object.isFrozen(a), false);
    assert.deepEqual(a, b);
  });

  it('another message in between replaces the remembered one; values stay those of the bytes', () => {
    const evs = read([`${ping}{"execute":"guest-info"}${ping}{"execute":"guest-ping","id":5}${ping}`]);
    assert.deepEqual(
      evs.map((e) => JSON.stringify(onlyValueOf(e))),
      [ping, '{"execute":"guest-info"}', ping, '{"execute":"guest-ping","id":5}', ping],
    );
  });

  it('a repeat cut by the chunk, or followed by garbage, reads as the byte-wise reader reads it', () => {
    for (const tail of ['', 'x', ' \n', '}']) {
      const text = `${ping}${ping}${tail}${ping}`;
      for (let cut = 1; cut < text.length; cut++) {
        const fast = read([text.slice(0, cut), text.slice(cut)]);
        const evs: JsonEvent[] = [];
        const slow = new JsonStreamReader((ev) => evs.push(ev), QEMU_JSON_LIMITS, { fastPath: false });
        slow.feed(Buffer.from(text.slice(0, cut)));
        slow.feed(Buffer.from(text.slice(cut)));
        assert.deepEqual(JSON.parse(JSON.stringify(fast)), JSON.parse(JSON.stringify(evs)), `tail ${JSON.stringify(tail)} cut ${cut}`);
      }
    }
  });

  it('feed(buf, from, to) reads only buf[from, to) (a transport hands on its own read buffer)', () => {
    const evs: JsonEvent[] = [];
    const r = new JsonStreamReader((ev) => evs.push(ev));
    const buf = Buffer.from(`xx${ping}${ping}{"broken`);
    assert.equal(r.feed(buf, 2, 2 + ping.length), 2 + ping.length);
    assert.equal(evs.length, 1);
    assert.equal(r.feed(buf, 2 + ping.length, 2 + 2 * ping.length), 2 + 2 * ping.length);
    assert.equal(evs.length, 2);
    assert.equal(r.bufferedBytes, 0, 'nothing after `to` was read');
  });
});

function onlyValueOf(e: JsonEvent) {
  assert.ok('value' in e, 'error' in e ? e.error : '');
  return e.value;
}
