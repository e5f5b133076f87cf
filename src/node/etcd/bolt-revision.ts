// Reads the revision an etcd snapshot holds, straight from its bbolt database: the meta pages give
// the page size and the root bucket; the `key` bucket's keys are revisions (8 bytes big-endian main
// revision, '_', 8 bytes sub revision, 't' for a tombstone) in sorted order, so its right-most key
// is the highest revision — what `etcdctl snapshot status` reports. Layout from etcd-io/bbolt
// (page.go, db.go: page header {id u64, flags u16, count u16, overflow u32}; meta {magic, version,
// pageSize, flags, root {pgid, sequence}, freelist, pgid, txid, checksum = FNV-1a 64 of the rest}).
// Every offset read from the file is checked against the file before use: the input is untrusted.

const PAGE_HEADER = 16;
const ELEMENT = 16;
const MAGIC = 0xed0cdaed;
const VERSION = 2;
const BRANCH = 0x01;
const LEAF = 0x02;
const BUCKET_LEAF = 0x01;
/** Deeper than any real bbolt tree (a billion keys need ~6 levels): a loop or a forged page stops here. */
const MAX_DEPTH = 64;
/** No legitimate page (with its overflow) is larger; a forged overflow count must not allocate gigabytes. */
const MAX_PAGE_BYTES = 64 << 20;

/** A snapshot whose database cannot be read: corrupt, truncated, or not bbolt at all. */
export class BoltFormatError extends Error {
  readonly code = 'ETCD_SNAPSHOT_CORRUPT';
}

/** Random access to the database bytes (the snapshot file without its 32-byte digest). */
export interface ByteSource {
  size: number;
  read(offset: number, length: number): Promise<Buffer>;
}

interface Meta {
  pageSize: number;
  root: bigint;
  highWater: bigint;
  txid: bigint;
}

const FNV_OFFSET = 0xcbf29ce484222325n;
const FNV_PRIME = 0x100000001b3n;

/** FNV-1a, 64 bits: bbolt's meta checksum. */
export function fnv1a64(b: Uint8Array): bigint {
  let h = FNV_OFFSET;
  for (const byte of b) h = BigInt.asUintN(64, (h ^ BigInt(byte)) * FNV_PRIME);
  return h;
}

function parseMeta(page: Buffer): Meta | undefined {
  if (page.length < PAGE_HEADER + 64) return undefined;
  const m = page.subarray(PAGE_HEADER, PAGE_HEADER + 64);
  if (m.readUInt32LE(0) !== MAGIC || m.readUInt32LE(4) !== VERSION) return undefined;
  const checksum = m.readBigUInt64LE(56);
  if (checksum !== fnv1a64(m.subarray(0, 56))) return undefined;
  const pageSize = m.readUInt32LE(8);
  // bbolt uses the OS page size: 4 KiB here, 16/64 KiB on some arm64 and ppc64 kernels.
  if (pageSize < 1024 || pageSize > 65536 || (pageSize & (pageSize - 1)) !== 0) return undefined;
  return { pageSize, root: m.readBigUInt64LE(16), highWater: m.readBigUInt64LE(40), txid: m.readBigUInt64LE(48) };
}

class Pages {
  constructor(
    private readonly src: ByteSource,
    readonly meta: Meta,
  ) {}

  /** One page with its overflow pages, checked to lie inside the database. */
  async page(id: bigint): Promise<Buffer> {
    const ps = BigInt(this.meta.pageSize);
    if (id < 2n || id >= this.meta.highWater) throw new BoltFormatError(`page ${id} is outside the database`);
    const head = await this.src.read(Number(id * ps), this.meta.pageSize);
    if (head.length < this.meta.pageSize) throw new BoltFormatError(`page ${id} is truncated`);
    const overflow = BigInt(head.readUInt32LE(12));
    if (overflow === 0n) return head;
    const bytes = (overflow + 1n) * ps;
    if (id + overflow >= this.meta.highWater || bytes > BigInt(MAX_PAGE_BYTES))
      throw new BoltFormatError(`page ${id} claims ${overflow} overflow pages`);
    const whole = await this.src.read(Number(id * ps), Number(bytes));
    if (whole.length < Number(bytes)) throw new BoltFormatError(`page ${id} is truncated`);
    return whole;
  }
}

interface Node {
  flags: number;
  count: number;
  buf: Buffer;
  /** Where the page header starts in buf (inline buckets sit inside a value). */
  at: number;
}

function node(buf: Buffer, at = 0): Node {
  if (buf.length < at + PAGE_HEADER) throw new BoltFormatError('page header is truncated');
  const flags = buf.readUInt16LE(at + 8);
  const count = buf.readUInt16LE(at + 10);
  if (at + PAGE_HEADER + count * ELEMENT > buf.length) throw new BoltFormatError('page elements run past the page');
  return { flags, count, buf, at };
}

function slice(n: Node, elem: number, pos: number, len: number): Buffer {
  const start = elem + pos;
  if (pos < 0 || start + len > n.buf.length) throw new BoltFormatError('element data runs past the page');
  return n.buf.subarray(start, start + len);
}

function branchChild(n: Node, i: number): { key: Buffer; pgid: bigint } {
  const e = n.at + PAGE_HEADER + i * ELEMENT;
  const pos = n.buf.readUInt32LE(e);
  const ksize = n.buf.readUInt32LE(e + 4);
  return { key: slice(n, e, pos, ksize), pgid: n.buf.readBigUInt64LE(e + 8) };
}

function leafItem(n: Node, i: number): { flags: number; key: Buffer; value: Buffer } {
  const e = n.at + PAGE_HEADER + i * ELEMENT;
  const flags = n.buf.readUInt32LE(e);
  const pos = n.buf.readUInt32LE(e + 4);
  const ksize = n.buf.readUInt32LE(e + 8);
  const vsize = n.buf.readUInt32LE(e + 12);
  const both = slice(n, e, pos, ksize + vsize);
  return { flags, key: both.subarray(0, ksize), value: both.subarray(ksize) };
}

/** The root of a named top-level bucket: a page id, or an inline page (root 0) inside the value. */
async function findBucket(pages: Pages, name: Buffer): Promise<bigint | Buffer | undefined> {
  let n = node(await pages.page(pages.meta.root));
  for (let depth = 0; depth < MAX_DEPTH; depth++) {
    if (n.flags & BRANCH) {
      if (n.count === 0) return undefined;
      // The last child whose first key is <= name holds it.
      let child = branchChild(n, 0).pgid;
      for (let i = 1; i < n.count; i++) {
        const c = branchChild(n, i);
        if (Buffer.compare(c.key, name) > 0) break;
        child = c.pgid;
      }
      n = node(await pages.page(child));
      continue;
    }
    if (!(n.flags & LEAF)) throw new BoltFormatError(`root bucket page has flags ${n.flags}`);
    for (let i = 0; i < n.count; i++) {
      const item = leafItem(n, i);
      if (!item.key.equals(name)) continue;
      if (!(item.flags & BUCKET_LEAF) || item.value.length < 16) throw new BoltFormatError(`"${name}" is not a bucket`);
      const root = item.value.readBigUInt64LE(0);
      return root === 0n ? item.value.subarray(16) : root;
    }
    return undefined;
  }
  throw new BoltFormatError('root bucket tree is deeper than any real one');
}

/** The right-most key of a bucket's tree, or undefined when the bucket is empty. */
async function lastKey(pages: Pages, root: bigint | Buffer): Promise<Buffer | undefined> {
  let n = typeof root === 'bigint' ? node(await pages.page(root)) : node(root);
  for (let depth = 0; depth < MAX_DEPTH; depth++) {
    if (n.count === 0) return undefined;
    if (n.flags & BRANCH) {
      n = node(await pages.page(branchChild(n, n.count - 1).pgid));
      continue;
    }
    if (!(n.flags & LEAF)) throw new BoltFormatError(`bucket page has flags ${n.flags}`);
    return leafItem(n, n.count - 1).key;
  }
  throw new BoltFormatError('key bucket tree is deeper than any real one');
}

/** What readRevision found: the revision, and the page size (for the log and tests). */
export interface BoltFacts {
  revision: number;
  pageSize: number;
}

/**
 * The revision of an etcd database (0 when it holds no key yet). Throws BoltFormatError when the
 * bytes are not a whole, consistent bbolt database.
 */
export async function readRevision(src: ByteSource): Promise<BoltFacts> {
  const first = await src.read(0, 4096);
  const m0 = parseMeta(first);
  // Without a valid first meta page the page size is unknown: try the usual 4 KiB for the second.
  const m1 = parseMeta(await src.read(m0?.pageSize ?? 4096, m0?.pageSize ?? 4096));
  // bbolt writes the two meta pages alternately; the valid one with the higher txid is current.
  const meta = m0 && m1 ? (m1.txid > m0.txid ? m1 : m0) : (m0 ?? m1);
  if (!meta) throw new BoltFormatError('no valid bbolt meta page (not an etcd database, or corrupt)');
  // A snapshot is bbolt's tx.WriteTo: exactly high-water-mark pages, no more, no less.
  if (BigInt(src.size) !== meta.highWater * BigInt(meta.pageSize))
    throw new BoltFormatError(`database has ${src.size} bytes, its meta page says ${meta.highWater * BigInt(meta.pageSize)}`);
  const pages = new Pages(src, meta);
  const bucket = await findBucket(pages, Buffer.from('key'));
  if (bucket === undefined) throw new BoltFormatError('no "key" bucket: not an etcd database');
  const key = await lastKey(pages, bucket);
  if (key === undefined) return { revision: 0, pageSize: meta.pageSize };
  if (key.length < 17 || key[8] !== 0x5f) throw new BoltFormatError('the last key is not an etcd revision');
  const main = key.readBigUInt64BE(0);
  if (main > BigInt(Number.MAX_SAFE_INTEGER)) throw new BoltFormatError(`revision ${main} is out of range`);
  return { revision: Number(main), pageSize: meta.pageSize };
}
