import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Base64Bytes, Base64Room, base64EncodeInto, partsToBuffer, releaseReply, replySpareBytes, trimReplySpares } from './json-reply.js';

const pattern = (n: number, seed = 0) => {
  const b = Buffer.alloc(n);
  for (let i = 0; i < n; i++) b[i] = (i * 131 + seed) & 0xff;
  return b;
};

test('base64EncodeInto writes what Buffer.toString does, for every remainder', () => {
  for (const n of [0, 1, 2, 3, 4, 5, 100, 4097]) {
    const src = pattern(n);
    const out = Buffer.alloc(Math.ceil(n / 3) * 4 + 2, 0x2e);
    const end = base64EncodeInto(src, out, 1);
    assert.equal(out.subarray(1, end).toString('latin1'), src.toString('base64'), `${n} bytes`);
  }
});

test('a value in pieces is one base64 text, pieces split anywhere (a program output as it came)', () => {
  const whole = pattern(1000);
  for (const cuts of [[1], [2], [1, 2], [3, 500, 501], [999]]) {
    const pieces: Buffer[] = [];
    let from = 0;
    for (const c of [...cuts, whole.length]) {
      pieces.push(whole.subarray(from, c));
      from = c;
    }
    const reply = partsToBuffer(['{"out-data": ', new Base64Bytes(pieces), '}']);
    assert.equal(reply.toString(), `{"out-data": "${whole.toString('base64')}"}`, `cut at ${cuts}`);
  }
});

test('a read into a Base64Room is encoded in place: the reply is the room buffer, the text exact', () => {
  for (const count of [256 << 10, (256 << 10) + 1, (256 << 10) + 2, 4 << 20]) {
    assert.ok(Base64Room.fits(count));
    const room = new Base64Room(count);
    const data = pattern(count, 7);
    data.copy(room.data);
    const reply = partsToBuffer(['{"return": {"count": 1, "buf-b64": ', room.bytes(count), ', "eof": false}}\n'], 0xff);
    assert.equal(reply.buffer, room.buffer.buffer, `${count}: built in the room`);
    assert.equal(reply[0], 0xff);
    assert.equal(reply.subarray(1).toString(), `{"return": {"count": 1, "buf-b64": "${data.toString('base64')}", "eof": false}}\n`);
    releaseReply(reply);
  }
});

test('a short read into a room, and a reply too long for it, are still exact', () => {
  const room = new Base64Room(1 << 20);
  const data = pattern(1000, 3);
  data.copy(room.data);
  const reply = partsToBuffer(['{"buf-b64": ', room.bytes(1000), '}']);
  assert.equal(reply.toString(), `{"buf-b64": "${data.toString('base64')}"}`);
  releaseReply(reply);
  const room2 = new Base64Room(1 << 20);
  const id = 'x'.repeat(8192); // longer than the room's tail: the reply is built elsewhere
  const data2 = pattern(1 << 20, 5);
  data2.copy(room2.data);
  const reply2 = partsToBuffer(['{"buf-b64": ', room2.bytes(1 << 20), `, "id": "${id}"}`]);
  assert.notEqual(reply2.buffer, room2.buffer.buffer);
  assert.equal(reply2.toString(), `{"buf-b64": "${data2.toString('base64')}", "id": "${id}"}`);
  releaseReply(reply2);
});

test('large reply buffers are reused once released, and dropped by trimReplySpares', () => {
  trimReplySpares();
  const big = new Base64Bytes(pattern(1 << 20));
  const first = partsToBuffer(['', big, '']);
  releaseReply(first);
  assert.ok(replySpareBytes() >= first.length);
  const second = partsToBuffer(['', big, '']);
  assert.equal(second.buffer, first.buffer, 'the same buffer again');
  releaseReply(second);
  trimReplySpares();
  assert.equal(replySpareBytes(), 0);
});
