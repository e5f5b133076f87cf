// Builds small bbolt databases shaped like etcd's (for tests that need one without running etcd, and
// to forge broken ones): meta pages 0 and 1, a freelist page, the root bucket's leaf holding the
// `key` bucket (its own pages, a branch over two leaves, or inline) and an inline `meta` bucket.
import { createHash } from 'node:crypto';
import { fnv1a64 } from './bolt-revision.js';

const HEADER = 16;
const ELEM = 16;

/** An etcd key-bucket key: 8 bytes big-endian main revision, '_', 8 bytes sub revision. */
export function revKey(main: number, sub = 0): Buffer {
  const b = Buffer.alloc(17);
  b.writeBigUInt64BE(BigInt(main), 0);
  b[8] = 0x5f;
  b.writeBigUInt64BE(BigInt(sub), 9);
  return b;
}

function header(id: number, flags: number, count: number): Buffer {
  const h = Buffer.alloc(HEADER);
  h.writeBigUInt64LE(BigInt(id), 0);
  h.writeUInt16LE(flags, 8);
  h.writeUInt16LE(count, 10);
  return h;
}

/** A leaf page's bytes (header, elements, then keys and values), unpadded. */
function leaf(id: number, items: { key: Buffer; value: Buffer; bucket?: boolean }[]): Buffer {
  const elems = Buffer.alloc(items.length * ELEM);
  const data: Buffer[] = [];
  let at = items.length * ELEM;
  items.forEach((it, i) => {
    const e = i * ELEM;
    elems.writeUInt32LE(it.bucket ? 1 : 0, e);
    elems.writeUInt32LE(at - e, e + 4);
    elems.writeUInt32LE(it.key.length, e + 8);
    elems.writeUInt32LE(it.value.length, e + 12);
    data.push(it.key, it.value);
    at += it.key.length + it.value.length;
  });
  return Buffer.concat([header(id, 0x02, items.length), elems, ...data]);
}

function branch(id: number, children: { key: Buffer; pgid: number }[]): Buffer {
  const elems = Buffer.alloc(children.length * ELEM);
  const data: Buffer[] = [];
  let at = children.length * ELEM;
  children.forEach((c, i) => {
    const e = i * ELEM;
    elems.writeUInt32LE(at - e, e);
    elems.writeUInt32LE(c.key.length, e + 4);
    elems.writeBigUInt64LE(BigInt(c.pgid), e + 8);
    data.push(c.key);
    at += c.key.length;
  });
  return Buffer.concat([header(id, 0x01, children.length), elems, ...data]);
}

function bucketValue(root: number, inline?: Buffer): Buffer {
  const v = Buffer.alloc(16);
  v.writeBigUInt64LE(BigInt(root), 0);
  return inline ? Buffer.concat([v, inline]) : v;
}

function meta(id: number, pageSize: number, root: number, highWater: number, txid: number): Buffer {
  const m = Buffer.alloc(64);
  m.writeUInt32LE(0xed0cdaed, 0);
  m.writeUInt32LE(2, 4);
  m.writeUInt32LE(pageSize, 8);
  m.writeBigUInt64LE(BigInt(root), 16);
  m.writeBigUInt64LE(2n, 32); // freelist page
  m.writeBigUInt64LE(BigInt(highWater), 40);
  m.writeBigUInt64LE(BigInt(txid), 48);
  m.writeBigUInt64LE(fnv1a64(m.subarray(0, 56)), 56);
  return Buffer.concat([header(id, 0x04, 0), m]);
}

/** How the test database is laid out. */
export interface BoltShape {
  /** Main revisions of the keys in the `key` bucket (any order; stored sorted). */
  revisions: number[];
  pageSize?: number;
  /** The key bucket as a branch page over two leaves. */
  branch?: boolean;
  /** The key bucket inline in the root bucket's leaf. */
  inline?: boolean;
  /** Extra zero pages at the end (to make a large database). */
  padPages?: number;
}

/** A bbolt database with an etcd-like `key` bucket. */
export function buildBoltDb(shape: BoltShape): Buffer {
  const ps = shape.pageSize ?? 4096;
  const keys = [...shape.revisions].sort((a, b) => a - b).map((r) => ({ key: revKey(r), value: Buffer.from(`kv-${r}`) }));
  const pages: Buffer[] = [];
  const metaBucket = bucketValue(0, leaf(0, [{ key: Buffer.from('consistent_index'), value: Buffer.alloc(8) }]));
  let keyBucket: Buffer;
  const extra: Buffer[] = [];
  if (shape.inline) keyBucket = bucketValue(0, leaf(0, keys));
  else if (shape.branch && keys.length >= 2) {
    const half = Math.ceil(keys.length / 2);
    keyBucket = bucketValue(4);
    extra.push(
      branch(4, [
        { key: keys[0]?.key as Buffer, pgid: 5 },
        { key: keys[half]?.key as Buffer, pgid: 6 },
      ]),
      leaf(5, keys.slice(0, half)),
      leaf(6, keys.slice(half)),
    );
  } else {
    keyBucket = bucketValue(4);
    extra.push(leaf(4, keys));
  }
  const rootLeaf = leaf(3, [
    { key: Buffer.from('key'), value: keyBucket, bucket: true },
    { key: Buffer.from('meta'), value: metaBucket, bucket: true },
  ]);
  const highWater = 3 + 1 + extra.length + (shape.padPages ?? 0);
  pages.push(meta(0, ps, 3, highWater, 4), meta(1, ps, 3, highWater, 3), header(2, 0x10, 0), rootLeaf, ...extra);
  for (let i = 0; i < (shape.padPages ?? 0); i++) pages.push(Buffer.alloc(0));
  return Buffer.concat(
    pages.map((p) => {
      if (p.length > ps) throw new Error('test bolt page overflow');
      return Buffer.concat([p, Buffer.alloc(ps - p.length)]);
    }),
  );
}

/** The database with etcd's sha256 appended: a snapshot file. */
export function withDigest(db: Buffer): Buffer {
  return Buffer.concat([db, createHash('sha256').update(db).digest()]);
}
