// EtcdSnapshots over any source of snapshot bytes (etcd's Maintenance/Snapshot, Talos's EtcdSnapshot):
// one attempt at a time (a second request joins the one under way), the whole attempt bounded by
// one timeout, the stream capped in bytes, the result checked (etcd's digest, then the database's
// own structure and revision) before it replaces anything, and the last outcome kept for the host.
import type { EtcdSnapshot, EtcdSnapshotOutcome, EtcdSnapshots } from '../interfaces.js';
import { BoltFormatError, type ByteSource, readRevision } from './bolt-revision.js';
import { SnapshotDigest } from './digest.js';
import { EtcdSnapshotError } from './errors.js';
import { noSpace, SnapshotDir, type StoreLog, snapshotName } from './store.js';

/** A stream of a snapshot's bytes: etcd's database followed by its sha256. */
export interface SnapshotSource {
  /** For logs and errors: "etcd https://127.0.0.1:2379", "Talos EtcdSnapshot". */
  readonly describe: string;
  /**
   * The bytes, in order. Ends (the iterator throws) when `signal` aborts; a source that knows the
   * size up front refuses one larger than `maxBytes` before streaming it. Throws EtcdSnapshotError.
   */
  stream(opts: { deadline: Date; signal: AbortSignal; maxBytes: number }): AsyncIterable<Buffer>;
}

/** The directory and the bounds of one Snapshotter (from the agent's settings). */
export interface SnapshotterOptions {
  dir: string;
  /** Snapshots kept (the newest). */
  keep: number;
  timeoutMs: number;
  /** Largest database accepted (the digest's 32 bytes come on top). */
  maxBytes: number;
  log: StoreLog;
  /** Wall clock (tests). */
  now?: () => Date;
}

const DIGEST = 32;
/** Part of the timeout kept for removing the partial file after the stream is aborted. */
const CLEANUP_GRACE_MS = 500;

/** Random access to the first `size` bytes of an open file. */
function fileBytes(fh: { read(b: Buffer, o: number, l: number, p: number): Promise<{ bytesRead: number }> }, size: number): ByteSource {
  return {
    size,
    read: async (offset, length) => {
      const n = Math.max(0, Math.min(length, size - offset));
      const b = Buffer.alloc(n);
      const { bytesRead } = n > 0 ? await fh.read(b, 0, n, offset) : { bytesRead: 0 };
      return b.subarray(0, bytesRead);
    },
  };
}

/** The EtcdSnapshots both back ends hand to the commands: one source, one directory, the checks and bounds. */
export class Snapshotter implements EtcdSnapshots {
  private inflight: Promise<EtcdSnapshot> | undefined;
  private outcome: EtcdSnapshotOutcome | undefined;
  private readonly now: () => Date;

  constructor(
    private readonly src: SnapshotSource,
    private readonly o: SnapshotterOptions,
  ) {
    this.now = o.now ?? (() => new Date());
  }

  get dir(): string {
    return this.o.dir;
  }

  get source(): string {
    return this.src.describe;
  }

  last(): EtcdSnapshotOutcome | undefined {
    return this.outcome;
  }

  take(trigger: 'freeze' | 'command'): Promise<EtcdSnapshot> {
    if (!this.inflight) {
      const run = this.attempt(trigger);
      this.inflight = run;
      void run.then(
        () => (this.inflight = undefined),
        () => (this.inflight = undefined),
      );
    }
    return this.inflight;
  }

  private async attempt(trigger: 'freeze' | 'command'): Promise<EtcdSnapshot> {
    const ac = new AbortController();
    const started = this.now();
    const t0 = performance.now();
    let received = { bytes: 0 };
    let timedOut: EtcdSnapshotError | undefined;
    const work = this.work(started, t0, ac.signal, (r) => (received = r));
    // The stream is aborted a little before the deadline, so that removing the partial file (before
    // the filesystem is frozen) fits in the bound too; a disk too slow even for that is not waited for.
    const grace = Math.min(CLEANUP_GRACE_MS, this.o.timeoutMs / 4);
    const abortTimer = setTimeout(() => {
      timedOut = new EtcdSnapshotError(
        'ETCD_SNAPSHOT_TIMEOUT',
        `no etcd snapshot from ${this.src.describe} within ${this.o.timeoutMs / 1000} s (${received.bytes} bytes received): check etcd, or raise --etcd-snapshot-timeout (and the hypervisor's agent timeout)`,
      );
      ac.abort();
    }, this.o.timeoutMs - grace);
    let hardTimer: NodeJS.Timeout | undefined;
    const hardDeadline = new Promise<never>((_, reject) => {
      hardTimer = setTimeout(() => reject(timedOut), this.o.timeoutMs);
    });
    work.catch(() => {}); // past the hard deadline the work's own end is not news
    try {
      const snap = await Promise.race([work, hardDeadline]);
      this.outcome = { trigger, at: this.now().toISOString(), snapshot: snap };
      return snap;
    } catch (err) {
      const e = timedOut ?? toSnapshotError(err, this.src.describe);
      this.outcome = { trigger, at: this.now().toISOString(), error: e.message, code: e.code };
      throw e;
    } finally {
      clearTimeout(abortTimer);
      clearTimeout(hardTimer);
    }
  }

  private async work(started: Date, t0: number, signal: AbortSignal, progress: (r: { bytes: number }) => void): Promise<EtcdSnapshot> {
    const dir = await SnapshotDir.open(this.o.dir, this.o.log);
    try {
      await dir.removeStale();
      const { name: temp, fh } = await dir.createTemp();
      const digest = new SnapshotDigest();
      try {
        const deadline = new Date(Date.now() + this.o.timeoutMs);
        for await (const chunk of this.src.stream({ deadline, signal, maxBytes: this.o.maxBytes })) {
          if (signal.aborted) throw new EtcdSnapshotError('ETCD_SNAPSHOT_TIMEOUT', 'aborted');
          if (digest.bytes + chunk.length > this.o.maxBytes + DIGEST)
            throw new EtcdSnapshotError(
              'ETCD_SNAPSHOT_TOO_LARGE',
              `the etcd snapshot from ${this.src.describe} is larger than --etcd-snapshot-max-bytes (${this.o.maxBytes}): raise it if the database is really that large`,
            );
          digest.update(chunk);
          progress(digest);
          try {
            await fh.write(chunk);
          } catch (err) {
            throw noSpace(err, this.o.dir, digest.bytes) ?? err;
          }
        }
        const { sha256, dbSize } = digest.finish();
        try {
          await fh.sync();
        } catch (err) {
          throw noSpace(err, this.o.dir, digest.bytes) ?? err;
        }
        await fh.close();
        const rd = await dir.openRead(temp);
        let revision: number;
        try {
          ({ revision } = await readRevision(fileBytes(rd, dbSize)));
        } finally {
          await rd.close();
        }
        // Past the deadline the attempt has been reported as failed: it must not leave a snapshot.
        if (signal.aborted) throw new EtcdSnapshotError('ETCD_SNAPSHOT_TIMEOUT', 'aborted');
        const name = snapshotName(started, revision);
        const file = await dir.commit(temp, name);
        const removed = await dir.rotate(this.o.keep);
        if (removed.length > 0) this.o.log.info({ etcdSnapshotsRemoved: removed, keep: this.o.keep }, 'older etcd snapshots removed');
        return {
          path: file,
          revision,
          size: digest.bytes,
          sha256,
          takenAt: started.toISOString(),
          durationMs: Math.round(performance.now() - t0),
        };
      } catch (err) {
        await fh.close().catch(() => {});
        await dir.remove(temp);
        throw err;
      }
    } finally {
      await dir.close();
    }
  }
}

/** Any failure as an EtcdSnapshotError (bbolt and I/O errors included). */
export function toSnapshotError(err: unknown, source: string): EtcdSnapshotError {
  if (err instanceof EtcdSnapshotError) return err;
  if (err instanceof BoltFormatError)
    return new EtcdSnapshotError('ETCD_SNAPSHOT_CORRUPT', `the snapshot from ${source} is not a readable etcd database: ${err.message}`);
  return new EtcdSnapshotError('ETCD_SNAPSHOT_FAILED', `etcd snapshot from ${source} failed: ${(err as Error)?.message ?? String(err)}`);
}
