// etcd's snapshot stream ends with the sha256 of the database before it (the server hashes what it
// sends and appends the 32-byte digest; client/v3/snapshot and etcdutl check it the same way: the
// file's size is then 32 more than a multiple of 512, and restore verifies the digest). Checked here
// as the bytes go by, holding back the last 32 bytes seen, so nothing is read twice.
import { createHash } from 'node:crypto';
import { EtcdSnapshotError } from './errors.js';

const DIGEST = 32;

/** Hashes a snapshot stream: the whole file (what copies must match) and the database part (etcd's check). */
export class SnapshotDigest {
  private readonly file = createHash('sha256');
  private readonly db = createHash('sha256');
  private tail: Buffer = Buffer.alloc(0);
  /** Bytes seen so far. */
  bytes = 0;

  update(chunk: Buffer): void {
    this.file.update(chunk);
    this.bytes += chunk.length;
    if (chunk.length >= DIGEST) {
      this.db.update(this.tail);
      this.db.update(chunk.subarray(0, chunk.length - DIGEST));
      // A copy: the transport may reuse the chunk's memory.
      this.tail = Buffer.from(chunk.subarray(chunk.length - DIGEST));
      return;
    }
    const joined = Buffer.concat([this.tail, chunk]);
    const cut = Math.max(0, joined.length - DIGEST);
    this.db.update(joined.subarray(0, cut));
    this.tail = joined.subarray(cut);
  }

  /** The file's sha256 and the database's size; throws ETCD_SNAPSHOT_CORRUPT when etcd's digest is missing or wrong. */
  finish(): { sha256: string; dbSize: number } {
    const size = this.bytes;
    if (size % 512 !== DIGEST)
      throw new EtcdSnapshotError(
        'ETCD_SNAPSHOT_CORRUPT',
        `the snapshot stream ended after ${size} bytes without etcd's sha256 digest (truncated, or not an etcd snapshot)`,
      );
    const expected = this.tail.toString('hex');
    const actual = this.db.digest('hex');
    if (expected !== actual)
      throw new EtcdSnapshotError(
        'ETCD_SNAPSHOT_CORRUPT',
        `the snapshot's database does not match the sha256 etcd appended (${actual} vs ${expected}): corrupted in transit or on the way to disk`,
      );
    return { sha256: this.file.digest('hex'), dbSize: size - DIGEST };
  }
}
