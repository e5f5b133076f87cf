// Unit tests for the QMP envelope: the checks qmp_dispatch makes and the reply encodings.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { errors, QgaError } from './errors.js';
import { Base64Bytes, type JsonObject, type JsonValue, partsToBuffer } from './json-value.js';
import { DELIMITER, encodeError, encodeReturn, MAX_DESC_CHARS, MAX_ECHO_BYTES, parseRequest, qdictOrder, requestId } from './request.js';

function envelopeError(v: JsonValue): string {
  try {
    parseRequest(v);
  } catch (err) {
    assert.ok(err instanceof QgaError);
    return err.desc;
  }
  return 'ok';
}

describe('parseRequest', () => {
  it('takes execute, arguments and id', () => {
    const r = parseRequest({ execute: 'guest-sync', arguments: { id: 1 }, id: 'x' });
    assert.equal(r.execute, 'guest-sync');
    assert.deepEqual({ ...r.arguments }, { id: 1 });
    assert.equal(r.id, 'x');
  });

  it('arguments default to an empty object; an absent id stays absent, a null id is kept', () => {
    const r = parseRequest({ execute: 'guest-ping' });
    assert.deepEqual(Object.keys(r.arguments), []);
    assert.ok(!('id' in r));
    assert.equal(parseRequest({ execute: 'guest-ping', id: null }).id, null);
  });

  it("rejects what qmp_dispatch rejects, in qemu's words", () => {
    assert.equal(envelopeError([1]), 'QMP input must be a JSON object');
    assert.equal(envelopeError(null), 'QMP input must be a JSON object');
    assert.equal(envelopeError({}), "QMP input lacks member 'execute'");
    assert.equal(envelopeError({ execute: 1 }), "QMP input member 'execute' must be a string");
    assert.equal(envelopeError({ execute: 'x', arguments: [] }), "QMP input member 'arguments' must be an object");
    assert.equal(envelopeError({ execute: 'x', foo: 1 }), "QMP input member 'foo' is unexpected");
    assert.equal(envelopeError({ 'exec-oob': 'guest-ping' }), "QMP input member 'exec-oob' is unexpected");
  });

  it("checks members in qemu's QDict order, not the order sent (verified against qemu-ga 7.2)", () => {
    assert.equal(envelopeError({ foo: 1, execute: 2 }), "QMP input member 'execute' must be a string");
    assert.equal(envelopeError({ execute: 2, foo: 1 }), "QMP input member 'execute' must be a string");
    assert.equal(envelopeError({ path: 1, arg: 2, env: 3, 'capture-output': 4 }), "QMP input member 'env' is unexpected");
    assert.equal(envelopeError({ execute: 'guest-ping', arguments: 1, zz: 1, yy: 2 }), "QMP input member 'zz' is unexpected");
  });

  it('qdictOrder: bucket by bucket, newest first within a bucket, whatever the insertion order', () => {
    const fwd = qdictOrder({ a: 1, b: 2, c: 3, d: 4, e: 5, f: 6 });
    const rev = qdictOrder({ f: 1, e: 2, d: 3, c: 4, b: 5, a: 6 });
    assert.equal(fwd[0], 'd');
    assert.equal(rev[0], 'd');
    assert.deepEqual([...fwd].sort(), ['a', 'b', 'c', 'd', 'e', 'f']);
  });
});

describe('requestId', () => {
  it('finds the id of an object, even an invalid request', () => {
    assert.equal(requestId({ id: 5, foo: 1 }), 5);
    assert.equal(requestId([1]), undefined);
    assert.equal(requestId({ execute: 'x' }), undefined);
  });
});

describe('reply encoding', () => {
  it('return first, then id; one line', () => {
    assert.equal(partsToBuffer(encodeReturn({})).toString(), '{"return": {}}\n');
    assert.equal(partsToBuffer(encodeReturn(7n, 'a')).toString(), '{"return": 7, "id": "a"}\n');
    const bytes = new Base64Bytes(Buffer.from('hello'));
    assert.equal(
      partsToBuffer(encodeReturn({ 'buf-b64': bytes, eof: true }), DELIMITER).toString('latin1'),
      '\xff{"return": {"buf-b64": "aGVsbG8=", "eof": true}}\n',
    );
  });

  it('error: id first, as qemu-ga prints it', () => {
    const e = new QgaError('CommandNotFound', 'The command x has not been found');
    assert.equal(encodeError(e), '{"error": {"class": "CommandNotFound", "desc": "The command x has not been found"}}\n');
    assert.equal(encodeError(e, 1), '{"id": 1, "error": {"class": "CommandNotFound", "desc": "The command x has not been found"}}\n');
  });

  it('the delimiter is 0xFF', () => {
    assert.equal(DELIMITER, 0xff);
  });
});

/** The envelope check as qmp_dispatch words it, member by member in qdictOrder: the reference. */
function byQdictOrder(value: JsonObject): string {
  for (const key of qdictOrder(value)) {
    const v = value[key];
    if (key === 'execute' && typeof v !== 'string') return errors.memberNotString('execute').desc;
    if (key === 'arguments' && (typeof v !== 'object' || v === null || Array.isArray(v))) return errors.argumentsNotObject().desc;
    if (key !== 'execute' && key !== 'arguments' && key !== 'id') return errors.memberUnexpected(key).desc;
  }
  return typeof value.execute === 'string' ? 'ok' : errors.lacksExecute().desc;
}

describe('what a reply echoes', () => {
  it('echoes an id of 100 KiB (qemu-ga does), refuses one longer than 1 MiB as JSON and does not echo it', () => {
    const id = 'x'.repeat(100 << 10);
    assert.equal(parseRequest({ execute: 'guest-ping', id }).id, id);
    assert.equal(requestId({ execute: 'guest-ping', id }), id);
    const dels = '\x7f'.repeat(200_000); // 200,000 characters, 1.2 MB as JSON (\u007F each)
    assert.match(envelopeError({ execute: 'guest-ping', id: dels }), /^the request's id is longer than 1048576 bytes as JSON/);
    assert.equal(requestId({ execute: 'guest-ping', id: dels }), undefined);
    const list = Array.from({ length: 300_000 }, () => 0);
    assert.match(envelopeError({ execute: 'guest-ping', id: list }), /id is longer than/);
    assert.equal(requestId({ execute: 'guest-ping', id: 'x'.repeat(MAX_ECHO_BYTES - 2) }), 'x'.repeat(MAX_ECHO_BYTES - 2));
    assert.equal(requestId({ execute: 'guest-ping', id: 'x'.repeat(MAX_ECHO_BYTES - 1) }), undefined);
  });

  it('cuts an error text longer than 64 Ki characters', () => {
    const name = 'n'.repeat(100_000);
    const line = encodeError(errors.commandNotFound(name));
    assert.equal(line, `{"error": {"class": "CommandNotFound", "desc": "${`The command ${name}`.slice(0, MAX_DESC_CHARS)}..."}}\n`);
    assert.equal(
      encodeError(errors.commandNotFound('x')),
      '{"error": {"class": "CommandNotFound", "desc": "The command x has not been found"}}\n',
    );
  });
});

describe('envelope of many members', () => {
  it('reports the member qemu would, for any mix of members', () => {
    const key = fc.oneof(fc.constantFrom('execute', 'arguments', 'id', 'exec-oob', 'a', 'b', 'zz'), fc.string({ maxLength: 4 }));
    const value = fc.oneof(
      fc.constant<JsonValue>('guest-ping'),
      fc.constant<JsonValue>(1),
      fc.constant<JsonValue>({}),
      fc.constant<JsonValue>([]),
    );
    fc.assert(
      fc.property(fc.array(fc.tuple(key, value), { maxLength: 8 }), (pairs) => {
        const obj: JsonObject = Object.create(null);
        for (const [k, v] of pairs) obj[k] = v;
        assert.equal(envelopeError(obj), byQdictOrder(obj));
      }),
      { numRuns: 3000 },
    );
  });

  it("an object of 500,000 members gets the same answer as with qemu's order", () => {
    const obj: JsonObject = Object.create(null);
    for (let i = 0; i < 500_000; i++) obj[`k${i}`] = 0;
    assert.equal(envelopeError(obj), byQdictOrder(obj));
  });
});
