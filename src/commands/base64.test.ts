import assert from 'node:assert/strict';
import { test } from 'node:test';
import { BULK_CHUNK_BYTES, type BulkString, BulkWriter } from '../protocol/qga/json-bulk.js';
import { decodeBase64, decodedSize } from './base64.js';

// Expected values measured against qemu-ga 7.2 (guest-file-write counts and file contents).
test('canonical base64 decodes like Buffer', () => {
  assert.deepEqual(decodeBase64('d3JpdHRlbiBieSBxZ2EK'), Buffer.from('written by qga\n'));
  assert.deepEqual(decodeBase64('QQ=='), Buffer.from('A'));
  assert.deepEqual(decodeBase64('QUI='), Buffer.from('AB'));
  assert.equal(decodeBase64('').length, 0);
});

test('glib leniency: partial quads dropped, "=" inside counts as a zero digit, newlines skipped', () => {
  assert.equal(decodeBase64('QQ').length, 0);
  assert.deepEqual(decodeBase64('Q=Q='), Buffer.from([0x40, 0x04]));
  assert.deepEqual(decodeBase64('=QUJ'), Buffer.from([0x01, 0x05, 0x09]));
  assert.deepEqual(decodeBase64('QUJD\n'), Buffer.from('ABC'));
  assert.deepEqual(decodeBase64('QU\nJD'), Buffer.from('ABC'));
});

test('characters outside A-Z a-z 0-9 + / = \\n are refused with qemu-ga text', () => {
  for (const bad of ['!!!notbase64', 'QUJD RA==', 'QUJD\r', 'QUJD\t', 'QUJD\u0000', 'QUJD-_', 'QUJDé']) {
    assert.throws(() => decodeBase64(bad), { desc: 'Base64 data contains invalid characters' }, JSON.stringify(bad));
  }
});

test('a 48 MiB chunk decodes (the scan has no regex backtracking stack to overflow)', () => {
  const data = Buffer.alloc(48 << 20);
  for (let i = 0; i < data.length; i += 4096) data[i] = i & 0xff;
  const text = data.toString('base64');
  assert.ok(decodeBase64(text).equals(data));
  assert.ok(decodeBase64(`${text.slice(0, -4)}\n${text.slice(-4)}`).equals(data), 'the lenient path too');
});

/** Text as bulk bytes (what the JSON reader makes of a long input-data or buf-b64), written in odd slices. */
function bulk(text: string): BulkString {
  const w = new BulkWriter(undefined);
  const bytes = Buffer.from(text, 'latin1');
  for (let at = 0; at < bytes.length; at += 100_003) w.append(bytes, at, Math.min(bytes.length, at + 100_003));
  return w.finish();
}

test('bulk bytes decode exactly as the same text does: canonical, padded, lenient, refused', () => {
  // Over several chunks (BULK_CHUNK_BYTES each), so quads and padding meet chunk ends.
  const data = Buffer.alloc(BULK_CHUNK_BYTES * 2 + 7);
  for (let i = 0; i < data.length; i++) data[i] = (i * 31) & 0xff;
  for (const n of [0, 1, 2, 3, BULK_CHUNK_BYTES, data.length - 1, data.length]) {
    const text = data.subarray(0, n).toString('base64');
    assert.ok(decodeBase64(bulk(text)).equals(data.subarray(0, n)), `canonical, ${n} bytes`);
    const lenient = `${text}\nQQ`;
    assert.ok(decodeBase64(bulk(lenient)).equals(decodeBase64(lenient)), `lenient, ${n} bytes`);
  }
  for (const text of ['Q=Q=', '=QUJ', 'QU\nJD', 'QQ']) assert.deepEqual(decodeBase64(bulk(text)), decodeBase64(text), text);
  const big = data.toString('base64');
  for (const bad of [`${big}!`, `${big.slice(0, 1000)} ${big.slice(1000)}`, `-${big}`])
    assert.throws(() => decodeBase64(bulk(bad)), { desc: 'Base64 data contains invalid characters' });
});

test('decodedSize: exact for canonical text, as a string or as bulk bytes', () => {
  for (const n of [0, 1, 2, 3, 4, 1000]) {
    const text = Buffer.alloc(n, 7).toString('base64');
    assert.equal(decodedSize(text), n);
    assert.equal(decodedSize(bulk(text)), n);
  }
});

test('decoding into a caller buffer: the result is a view of it', () => {
  const into = Buffer.alloc(64);
  const out = decodeBase64('QUJD', (n) => into.subarray(0, n));
  assert.equal(out.buffer, into.buffer);
  assert.equal(out.toString(), 'ABC');
});
