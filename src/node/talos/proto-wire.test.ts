import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ProtoDecodeError, ProtoMessage, ProtoWriter, readFields } from './proto-wire.js';

test('proto3 defaults are left out: ShutdownRequest{force:false} is empty, {force:true} is 08 01', () => {
  assert.equal(new ProtoWriter().bool(1, false).finish().length, 0);
  assert.deepEqual([...new ProtoWriter().bool(1, true).finish()], [0x08, 0x01]);
});

test('varints use 7-bit groups, up to the full 64 bits', () => {
  assert.deepEqual([...new ProtoWriter().uint(2, 300).finish()], [0x10, 0xac, 0x02]);
  const max = new ProtoWriter().uint(1, 0xffffffffffffffffn).finish();
  assert.equal(max.length, 11);
  assert.equal(ProtoMessage.decode(max).uint64(1), 0xffffffffffffffffn);
});

test('strings and nested messages are length-delimited; doubles are 8 bytes little-endian', () => {
  const inner = new ProtoWriter().double(2, 0.25).double(4, 1.5);
  const buf = new ProtoWriter().string(1, 'ab').message(3, inner).finish();
  assert.deepEqual([...buf.subarray(0, 4)], [0x0a, 0x02, 0x61, 0x62]);
  const m = ProtoMessage.decode(buf);
  assert.equal(m.string(1), 'ab');
  assert.equal(m.message(3)?.double(2), 0.25);
  assert.equal(m.message(3)?.double(3), 0, 'an absent double is 0');
  assert.equal(m.message(3)?.double(4), 1.5);
});

test('repeated messages keep their order; for a singular field the last occurrence wins', () => {
  const buf = Buffer.concat([
    new ProtoWriter().message(1, new ProtoWriter().string(2, 'a')).finish(),
    new ProtoWriter().message(1, new ProtoWriter().string(2, 'b')).finish(),
    new ProtoWriter().string(5, 'x').string(5, 'y').finish(),
  ]);
  const m = ProtoMessage.decode(buf);
  assert.deepEqual(
    m.messages(1).map((x) => x.string(2)),
    ['a', 'b'],
  );
  assert.equal(m.string(5), 'y');
});

test('unknown fields of every wire type are skipped', () => {
  // field 7 fixed32, field 8 fixed64, field 9 varint, then field 1 string
  const buf = Buffer.from([0x3d, 1, 2, 3, 4, 0x41, 1, 2, 3, 4, 5, 6, 7, 8, 0x48, 0x96, 0x01, 0x0a, 0x01, 0x7a]);
  assert.equal(ProtoMessage.decode(buf).string(1), 'z');
});

test('truncated input and group wire types are decode errors, not garbage', () => {
  assert.throws(() => readFields(Buffer.from([0x0a, 0x05, 0x61])), ProtoDecodeError);
  assert.throws(() => readFields(Buffer.from([0x08, 0x80])), ProtoDecodeError);
  assert.throws(() => readFields(Buffer.from([0x0b])), /wire type 3/);
});
