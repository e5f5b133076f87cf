// Attacks on the etcd snapshot from the etcd side: a hostile or broken etcd (a gRPC double on
// loopback) sends a truncated stream, a corrupted one, a right digest over garbage, more than it
// announced, more than the cap, forever, slowly, or nothing. Each is refused with its own code, the
// partial file is removed, the newest snapshot kept is still the last good one, and the stream is cut
// (the server sees the cancellation) at the byte cap or the timeout.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { buildBoltDb, withDigest } from '../../src/node/etcd/bolt.test-util.js';
import type { EtcdSnapshotError } from '../../src/node/etcd/errors.js';
import { Snapshotter } from '../../src/node/etcd/snapshotter.js';
import { detectEtcd } from '../../src/node/linux/etcd-endpoints.js';
import { EtcdGrpcSource } from '../../src/node/linux/etcd-source.js';
import { EtcdMaintenanceDouble } from '../doubles/etcd-maintenance.js';
import { etcdMissing, snapshotStatus } from '../etcd/real-etcd.js';
import { waitFor } from '../poll.js';

const quiet = { info: () => {}, warn: () => {} };
const GOOD = withDigest(buildBoltDb({ revisions: [1, 2, 3, 4, 5, 6, 7, 8, 9, 10], branch: true }));

const until = (cond: () => boolean, what: string) => waitFor(cond, 5000, what);

describe('a hostile etcd cannot leave a bad snapshot, fill the disk or hold the freeze', { concurrency: false }, () => {
  let dir: string;
  let double: EtcdMaintenanceDouble;
  let snaps: Snapshotter;
  let good: string;

  const snapshotter = (o: { timeoutMs?: number; maxBytes?: number } = {}) =>
    new Snapshotter(new EtcdGrpcSource(detectEtcd({ etcdEndpoints: [double.url] }) as NonNullable<ReturnType<typeof detectEtcd>>), {
      dir: path.join(dir, 'snaps'),
      keep: 3,
      timeoutMs: o.timeoutMs ?? 5000,
      maxBytes: o.maxBytes ?? 1 << 20,
      log: quiet,
    });
  const files = () => readdirSync(path.join(dir, 'snaps')).sort();
  const refused = async (s: Snapshotter, code: string, re: RegExp) => {
    await assert.rejects(s.take('freeze'), (e: EtcdSnapshotError) => e.code === code && re.test(e.message));
    assert.equal(s.last()?.code, code);
    // On a timeout the attempt is reported failed at the deadline and the aborted stream's partial file is
    // removed right after (at most a few hundred ms on a busy machine): what is kept is awaited, not sampled.
    const kept = [path.basename(good)];
    await until(() => files().join() === kept.join(), 'the partial file to be removed');
    assert.deepEqual(files(), kept, 'nothing new kept, no partial file left: the last good snapshot is still the newest');
  };

  before(async () => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'guestlink-etcd-hostile-'));
    double = await EtcdMaintenanceDouble.start();
    snaps = snapshotter();
    double.behaviour = { kind: 'bytes', data: GOOD, chunk: 1000 };
    good = (await snaps.take('command')).path;
  });
  after(async () => {
    await double?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  test('the test database is real bbolt: etcdctl reads the revision guestlink reads', async (t) => {
    const missing = etcdMissing();
    if (missing) return t.skip(missing);
    const f = path.join(dir, 'check.db');
    writeFileSync(f, GOOD);
    assert.equal(snapshotStatus(f).revision, 10);
    assert.equal(snaps.last()?.snapshot?.revision, 10);
  });

  test('truncated (the digest cut off): refused as corrupt', async () => {
    double.behaviour = { kind: 'bytes', data: GOOD.subarray(0, GOOD.length - 32) };
    await refused(snaps, 'ETCD_SNAPSHOT_CORRUPT', /without etcd's sha256 digest/);
    double.behaviour = { kind: 'bytes', data: GOOD.subarray(0, GOOD.length - 700) };
    await refused(snaps, 'ETCD_SNAPSHOT_CORRUPT', /without etcd's sha256 digest/);
  });

  test('one byte changed in transit: the digest does not match', async () => {
    const bad = Buffer.from(GOOD);
    bad[5000] = (bad[5000] as number) ^ 1;
    double.behaviour = { kind: 'bytes', data: bad };
    await refused(snaps, 'ETCD_SNAPSHOT_CORRUPT', /does not match the sha256 etcd appended/);
  });

  test('a right digest over garbage, or over a database cut short: not an etcd database', async () => {
    double.behaviour = { kind: 'bytes', data: withDigest(randomBytes(8192)) };
    await refused(snaps, 'ETCD_SNAPSHOT_CORRUPT', /not a readable etcd database/);
    double.behaviour = { kind: 'bytes', data: withDigest(buildBoltDb({ revisions: [1, 2] }).subarray(0, 4096 * 4)) };
    await refused(snaps, 'ETCD_SNAPSHOT_CORRUPT', /meta page says/);
  });

  test('a database announced larger than --etcd-snapshot-max-bytes is refused before it is streamed', async () => {
    const before = double.sent;
    double.behaviour = { kind: 'bytes', data: GOOD, chunk: 1000, announce: 10 * 1024 ** 3 };
    await refused(snaps, 'ETCD_SNAPSHOT_TOO_LARGE', /announces a 10737418240-byte database/);
    assert.ok(double.sent - before < 1 << 20);
  });

  test('a stream that never ends (announcing little) is cut at the byte cap', async () => {
    const cancelled = double.cancelled;
    double.behaviour = { kind: 'forever', chunk: 64 * 1024, announce: 4096 };
    await refused(snaps, 'ETCD_SNAPSHOT_TOO_LARGE', /larger than --etcd-snapshot-max-bytes \(1048576\)/);
    await until(() => double.cancelled > cancelled, 'the server to see the stream cancelled');
  });

  test('a slow endless stream is cut at the timeout', async () => {
    const s = snapshotter({ timeoutMs: 800, maxBytes: 1 << 30 });
    const cancelled = double.cancelled;
    double.behaviour = { kind: 'forever', chunk: 4096, announce: 1 << 20, everyMs: 20 };
    await refused(s, 'ETCD_SNAPSHOT_TIMEOUT', /within 0\.8 s \(\d+ bytes received\)/);
    await until(() => double.cancelled > cancelled, 'the server to see the stream cancelled');
  });

  test('an etcd that accepts the call and never answers: the timeout', async () => {
    double.behaviour = { kind: 'hang' };
    await refused(snapshotter({ timeoutMs: 500 }), 'ETCD_SNAPSHOT_TIMEOUT', /within 0\.5 s \(0 bytes received\)/);
  });

  test('an error status is passed on with its reason', async () => {
    double.behaviour = { kind: 'fail', code: 7, details: 'etcdserver: permission denied' };
    await refused(snaps, 'ETCD_REFUSED', /permission denied.*--etcd-cert/);
  });
});
