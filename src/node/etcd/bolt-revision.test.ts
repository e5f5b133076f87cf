import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import { buildBoltDb } from './bolt.test-util.js';
import { BoltFormatError, type ByteSource, readRevision } from './bolt-revision.js';

const source = (b: Buffer): ByteSource => ({ size: b.length, read: async (o, l) => b.subarray(o, o + l) });

describe('readRevision: the highest revision of the key bucket', () => {
  test('a leaf of keys', async () => {
    assert.equal((await readRevision(source(buildBoltDb({ revisions: [2, 7, 5, 41] })))).revision, 41);
  });
  test('a branch over two leaves: the right-most leaf', async () => {
    assert.equal((await readRevision(source(buildBoltDb({ revisions: [1, 2, 3, 4, 5, 900], branch: true })))).revision, 900);
  });
  test('an inline key bucket', async () => {
    assert.equal((await readRevision(source(buildBoltDb({ revisions: [3, 9], inline: true })))).revision, 9);
  });
  test('an empty key bucket is revision 0', async () => {
    assert.equal((await readRevision(source(buildBoltDb({ revisions: [] })))).revision, 0);
  });
  test('16 KiB pages (arm64/ppc64 kernels)', async () => {
    const r = await readRevision(source(buildBoltDb({ revisions: [12], pageSize: 16384 })));
    assert.deepEqual(r, { revision: 12, pageSize: 16384 });
  });
  test('a damaged first meta page falls back to the second', async () => {
    const db = buildBoltDb({ revisions: [8] });
    db[16 + 20] = (db[16 + 20] as number) ^ 0xff; // inside meta 0, before its checksum
    assert.equal((await readRevision(source(db))).revision, 8);
  });
});

describe('readRevision refuses what is not a whole etcd database', () => {
  const refuses = async (db: Buffer, re: RegExp) =>
    assert.rejects(readRevision(source(db)), (e: Error) => e instanceof BoltFormatError && re.test(e.message));

  test('both meta pages damaged', async () => {
    const db = buildBoltDb({ revisions: [8] });
    db[16] = 0;
    db[4096 + 16] = 0;
    await refuses(db, /no valid bbolt meta page/);
  });
  test('truncated by a page', async () => refuses(buildBoltDb({ revisions: [8] }).subarray(0, 4096 * 4), /meta page says/));
  test('no key bucket', async () => {
    const db = buildBoltDb({ revisions: [8] });
    db.write('kez', 3 * 4096 + 16 + 32); // the root leaf's first key
    await refuses(db, /no "key" bucket/);
  });
  test('an element pointing past its page', async () => {
    const db = buildBoltDb({ revisions: [8] });
    db.writeUInt32LE(1 << 20, 4 * 4096 + 16 + 4); // key bucket leaf, element 0, pos
    await refuses(db, /runs past the page/);
  });
  test('a branch child outside the database', async () => {
    const db = buildBoltDb({ revisions: [1, 2, 3, 4], branch: true });
    db.writeBigUInt64LE(999n, 4 * 4096 + 16 + 16 + 8); // branch element 1's pgid
    await refuses(db, /outside the database/);
  });
  test('a branch that points at itself ends at the depth limit, not in a loop', async () => {
    const db = buildBoltDb({ revisions: [1, 2, 3, 4], branch: true });
    db.writeBigUInt64LE(4n, 4 * 4096 + 16 + 16 + 8);
    await refuses(db, /deeper than any real one/);
  });
  test('a forged overflow count', async () => {
    const db = buildBoltDb({ revisions: [1] });
    db.writeUInt32LE(0xffffffff, 4 * 4096 + 12);
    await refuses(db, /overflow pages/);
  });
  test('random damage never throws anything but BoltFormatError, and always ends', async () => {
    const base = buildBoltDb({ revisions: [1, 2, 3, 4, 5, 6], branch: true });
    await fc.assert(
      fc.asyncProperty(fc.array(fc.tuple(fc.nat(base.length - 1), fc.nat(255)), { minLength: 1, maxLength: 8 }), async (edits) => {
        const db = Buffer.from(base);
        for (const [at, v] of edits) db[at] = v;
        try {
          const r = await readRevision(source(db));
          assert.ok(Number.isSafeInteger(r.revision) && r.revision >= 0);
        } catch (e) {
          assert.ok(e instanceof BoltFormatError, String(e));
        }
      }),
      { numRuns: 500 },
    );
  });
});
