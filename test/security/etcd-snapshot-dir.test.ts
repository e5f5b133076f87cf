// Attacks on the etcd snapshot directory from inside the guest: a symlink planted under a snapshot's
// name (newer than any real one, pointing at a file worth protecting), the directory itself swapped
// for a symlink or left writable by others, leftovers of a crash, a full filesystem (a tiny
// loop-mounted ext4), and the read access guest-file-* gets for `guestlink etcd-snapshot` used to
// read elsewhere through a symlink in that directory (the real agent, over QGA).
import assert from 'node:assert/strict';
import {
  chmodSync,
  chownSync,
  existsSync,
  lstatSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { buildBoltDb, withDigest } from '../../src/node/etcd/bolt.test-util.js';
import type { EtcdSnapshotError } from '../../src/node/etcd/errors.js';
import { Snapshotter } from '../../src/node/etcd/snapshotter.js';
import { detectEtcd } from '../../src/node/linux/etcd-endpoints.js';
import { EtcdGrpcSource } from '../../src/node/linux/etcd-source.js';
import { EtcdMaintenanceDouble } from '../doubles/etcd-maintenance.js';
import { mountLoopExt4 } from '../linux/loop-fs.js';
import { makeTempDir, type Peer, startGuestlink } from '../peer/harness.js';
import { plain, qga, show } from '../talos/helpers.js';

const GOOD = withDigest(buildBoltDb({ revisions: [5, 6, 7] }));
const isRoot = process.getuid?.() === 0;

describe('the snapshot directory cannot be turned against the agent', { concurrency: false }, () => {
  let dir: string;
  let double: EtcdMaintenanceDouble;
  const peers: Peer[] = [];

  const snapshotter = (snapDir: string, warn: (o: object, m: string) => void = () => {}) =>
    new Snapshotter(new EtcdGrpcSource(detectEtcd({ etcdEndpoints: [double.url] }) as NonNullable<ReturnType<typeof detectEtcd>>), {
      dir: snapDir,
      keep: 2,
      timeoutMs: 5000,
      maxBytes: 64 << 20,
      log: { info: () => {}, warn },
    });

  before(async () => {
    dir = makeTempDir('guestlink-etcd-dir-');
    double = await EtcdMaintenanceDouble.start();
    double.behaviour = { kind: 'bytes', data: GOOD };
  });
  after(async () => {
    for (const p of peers) await p.stop();
    await double?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  test('a missing directory is created 0700; snapshots are 0600 (they hold every Secret)', async () => {
    const d = path.join(dir, 'fresh', 'etcd-snapshots');
    const snap = await snapshotter(d).take('command');
    assert.equal(statSync(d).mode & 0o777, 0o700);
    assert.equal(statSync(snap.path).mode & 0o777, 0o600);
  });

  test('a symlink planted under a newer snapshot name is never followed, counted or kept', async () => {
    const d = path.join(dir, 'planted');
    mkdirSync(d, { mode: 0o700 });
    const victim = path.join(dir, 'victim.txt');
    writeFileSync(victim, 'precious');
    const planted = path.join(d, 'etcd-29991231T235959.999Z-rev999999.db');
    symlinkSync(victim, planted);
    mkdirSync(path.join(d, 'etcd-29991231T235959.998Z-rev999998.db')); // a directory under a snapshot name
    const warnings: string[] = [];
    const s = snapshotter(d, (_o, m) => warnings.push(m));
    const first = await s.take('command');
    const second = await s.take('command');
    assert.equal(readFileSync(victim, 'utf8'), 'precious', 'the target is untouched');
    assert.equal(existsSync(planted), false, 'the planted link is removed (the link, not its target)');
    assert.ok(lstatSync(path.join(d, 'etcd-29991231T235959.998Z-rev999998.db')).isDirectory(), 'a directory is left alone');
    assert.match(warnings.join('\n'), /a symlink with a snapshot name/);
    const kept = readdirSync(d).filter((n) => n.endsWith('.db') && lstatSync(path.join(d, n)).isFile());
    assert.deepEqual(kept.sort(), [path.basename(first.path), path.basename(second.path)].sort(), 'keep=2 counts real snapshots only');
    assert.equal(s.last()?.snapshot?.path, second.path);
  });

  test('the directory itself a symlink: refused, its target gets nothing', async () => {
    const target = path.join(dir, 'elsewhere');
    mkdirSync(target, { mode: 0o700 });
    const link = path.join(dir, 'linked-snapshots');
    symlinkSync(target, link);
    await assert.rejects(
      snapshotter(link).take('freeze'),
      (e: EtcdSnapshotError) => e.code === 'ETCD_SNAPSHOT_DIR' && /symbolic link/.test(e.message),
    );
    assert.deepEqual(readdirSync(target), []);
  });

  test('a directory writable by others, or owned by someone else: refused with what to do', async () => {
    const open = path.join(dir, 'world-writable');
    mkdirSync(open);
    chmodSync(open, 0o777);
    await assert.rejects(
      snapshotter(open).take('freeze'),
      (e: EtcdSnapshotError) => e.code === 'ETCD_SNAPSHOT_DIR' && /chmod 0700/.test(e.message),
    );
    if (!isRoot) return;
    const theirs = path.join(dir, 'not-ours');
    mkdirSync(theirs, { mode: 0o700 });
    chownSync(theirs, 65534, 65534);
    await assert.rejects(
      snapshotter(theirs).take('freeze'),
      (e: EtcdSnapshotError) => e.code === 'ETCD_SNAPSHOT_DIR' && /chown/.test(e.message),
    );
  });

  test('partial files left by a crash are removed at the next snapshot', async () => {
    const d = path.join(dir, 'crashed');
    mkdirSync(d, { mode: 0o700 });
    writeFileSync(path.join(d, '.etcd-snapshot-0123456789abcdef.partial'), 'half a snapshot');
    await snapshotter(d).take('command');
    assert.deepEqual(
      readdirSync(d).filter((n) => n.endsWith('.partial')),
      [],
    );
  });

  test('a full filesystem: the snapshot fails cleanly (no partial file), the previous one stays', async (t) => {
    const fs = mountLoopExt4(2 * 1024 * 1024, 'guestlink-etcd-full-');
    if (typeof fs === 'string') return t.skip(fs);
    try {
      const d = path.join(fs.mnt, 'snaps');
      const s = snapshotter(d);
      const small = await s.take('command');
      double.behaviour = { kind: 'bytes', data: withDigest(buildBoltDb({ revisions: [5, 6, 7, 8], padPages: 1024 })) };
      await assert.rejects(
        s.take('freeze'),
        (e: EtcdSnapshotError) => e.code === 'ETCD_SNAPSHOT_NO_SPACE' && /no space left .* lower --etcd-snapshot-keep/.test(e.message),
      );
      assert.deepEqual(readdirSync(d), [path.basename(small.path)]);
      assert.deepEqual(readFileSync(small.path), GOOD);
    } finally {
      double.behaviour = { kind: 'bytes', data: GOOD };
      fs.cleanup();
    }
  });

  test('guest-file-* read the snapshot directory only: not through a planted symlink, not elsewhere, never for writing', async () => {
    const d = path.join(dir, 'agent-snaps');
    const secret = path.join(dir, 'secret.txt');
    writeFileSync(secret, 'not for the host');
    const a = await startGuestlink(mkdtempSync(path.join(os.tmpdir(), 'guestlink-etcd-agent-')), [
      '--node-backend',
      'linux',
      '--etcd-snapshot-dir',
      d,
      '--etcd-snapshot-on-demand',
      '--etcd-endpoints',
      double.url,
    ]);
    peers.push(a);
    const r = await qga(a.socket, 'guestlink-etcd-snapshot', undefined, 10_000);
    assert.ok('return' in r, show(r) + a.stderr());
    const file = (r.return as { path: string }).path;
    const h = await qga(a.socket, 'guest-file-open', { path: file });
    assert.ok('return' in h, show(h));
    const read = await qga(a.socket, 'guest-file-read', { handle: h.return as number, count: 1 << 20 });
    assert.ok('return' in read, show(read));
    assert.deepEqual(Buffer.from((read.return as { 'buf-b64': string })['buf-b64'], 'base64'), GOOD);
    await qga(a.socket, 'guest-file-close', { handle: h.return as number });

    symlinkSync(secret, path.join(d, 'evil'));
    for (const [p, mode] of [
      [path.join(d, 'evil'), 'r'],
      [secret, 'r'],
      ['/etc/hostname', 'r'],
      [file, 'w'],
      [file, 'r+'],
    ] as const) {
      const o = await qga(a.socket, 'guest-file-open', { path: p, mode });
      assert.ok('error' in o, `${p} ${mode}: ${show(o)}`);
    }
    for (const cmd of ['guest-file-write', 'guest-file-flush', 'guest-exec']) {
      const c = await qga(a.socket, cmd, cmd === 'guest-exec' ? { path: '/bin/true' } : { handle: 1000, 'buf-b64': '' });
      assert.ok('error' in c && /disabled/.test(c.error.desc), `${cmd}: ${show(c)}`);
    }
    const info = plain(await qga(a.socket, 'guest-info')) as { return: { supported_commands: { name: string; enabled: boolean }[] } };
    const enabled = info.return.supported_commands.filter((c) => c.enabled && /file|etcd/.test(c.name)).map((c) => c.name);
    assert.deepEqual(enabled.sort(), [
      'guest-file-close',
      'guest-file-open',
      'guest-file-read',
      'guest-file-seek',
      'guestlink-etcd-snapshot',
      'guestlink-etcd-snapshot-status',
    ]);
  });
});
