import assert from 'node:assert/strict';
import { test } from 'node:test';
import { decodeBase64 } from './base64.js';

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
