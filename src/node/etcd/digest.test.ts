import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { test } from 'node:test';
import fc from 'fast-check';
import { SnapshotDigest } from './digest.js';

const snapshot = (db: Buffer) => Buffer.concat([db, createHash('sha256').update(db).digest()]);

test('the same verdict and file hash however the stream is cut into chunks', () => {
  const file = snapshot(Buffer.alloc(4096, 7));
  const whole = createHash('sha256').update(file).digest('hex');
  fc.assert(
    fc.property(fc.array(fc.nat(file.length), { maxLength: 12 }), (cuts) => {
      const d = new SnapshotDigest();
      const points = [0, ...cuts.sort((a, b) => a - b), file.length];
      for (let i = 1; i < points.length; i++) d.update(file.subarray(points[i - 1], points[i]));
      assert.deepEqual(d.finish(), { sha256: whole, dbSize: 4096 });
    }),
  );
});

test('a wrong digest, a missing one, a size that cannot be a snapshot', () => {
  const file = snapshot(Buffer.alloc(4096, 7));
  const bad = Buffer.from(file);
  bad[10] = 8;
  for (const [b, re] of [
    [bad, /does not match/],
    [file.subarray(0, 4096), /without etcd's sha256 digest/],
    [Buffer.concat([file, Buffer.alloc(1)]), /without etcd's sha256 digest/],
  ] as const) {
    const d = new SnapshotDigest();
    d.update(b);
    assert.throws(
      () => d.finish(),
      (e: Error & { code?: string }) => e.code === 'ETCD_SNAPSHOT_CORRUPT' && re.test(e.message),
    );
  }
});
