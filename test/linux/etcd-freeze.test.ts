// The etcd snapshot taken before a freeze, end to end against a real etcd (Debian's etcd-server,
// started here on loopback with and without TLS) and a real ext4 of our own (loop-mounted, frozen
// with FIFREEZE through LinuxStorage on a private root, so nothing else on this machine is touched):
// the snapshot is on the frozen filesystem before the freeze returns, etcd's own tools accept and
// restore it, older ones rotate out, and a failing etcd never stops (or, when required, always
// stops) the freeze.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { copyFileSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { Logger } from 'pino';
import type { CommandContext } from '../../src/commands/context.js';
import { createFreezeHandlers, FreezeController } from '../../src/commands/freeze.js';
import { Snapshotter } from '../../src/node/etcd/snapshotter.js';
import type { EtcdSnapshots, NodeBackend } from '../../src/node/interfaces.js';
import { detectEtcd } from '../../src/node/linux/etcd-endpoints.js';
import { EtcdGrpcSource } from '../../src/node/linux/etcd-source.js';
import { runFsfreezeHook } from '../../src/node/linux/freeze-hook.js';
import { LinuxStorage } from '../../src/node/linux/storage.js';
import { MemoryAgentState } from '../doubles/memory-state.js';
import { type EtcdTls, etcdMissing, makeEtcdPki, type RealEtcd, restoreSnapshot, snapshotStatus, startEtcd } from '../etcd/real-etcd.js';
import { type LoopFs, mountLoopExt4, probeWrite } from './loop-fs.js';

let fs: LoopFs | undefined;
let skipReason = etcdMissing();
let tls: EtcdTls;
let plain: RealEtcd;
let secure: RealEtcd;

before(async () => {
  if (skipReason) return;
  const m = mountLoopExt4(96 * 1024 * 1024, 'guestlink-etcd-freeze-');
  if (typeof m === 'string') {
    skipReason = m;
    return;
  }
  fs = m;
  tls = makeEtcdPki(path.join(fs.dir, 'pki'));
  plain = await startEtcd({ dataDir: path.join(fs.dir, 'etcd-plain') });
  secure = await startEtcd({ dataDir: path.join(fs.dir, 'etcd-tls'), tls });
});

after(async () => {
  await plain?.stop();
  await secure?.stop();
  fs?.cleanup();
});

const skip = () => skipReason;
const sha256 = (b: Buffer) => createHash('sha256').update(b).digest('hex');

interface Harness {
  ctx: CommandContext;
  warnings: unknown[];
  snapshots: EtcdSnapshots;
  dir: string;
}

/** A freeze context over the loop fs with etcd snapshots from `source` into <mnt>/<name>. */
function harness(
  name: string,
  etcd: RealEtcd,
  opts: { keep?: number; timeoutMs?: number; required?: boolean; useTls?: boolean } = {},
): Harness {
  const mnt = (fs as LoopFs).mnt;
  const dir = path.join(mnt, name);
  const access = detectEtcd({
    etcdEndpoints: [etcd.url],
    ...(opts.useTls ? { etcdCacert: tls.ca, etcdCert: tls.clientCert, etcdKey: tls.clientKey } : {}),
  });
  assert.ok(access);
  const warnings: unknown[] = [];
  const log = {
    info: () => {},
    debug: () => {},
    error: () => {},
    warn: (...a: unknown[]) => warnings.push(a),
    child: () => log,
  } as unknown as Logger;
  const snapshots = new Snapshotter(new EtcdGrpcSource(access), {
    dir,
    keep: opts.keep ?? 3,
    timeoutMs: opts.timeoutMs ?? 5000,
    maxBytes: 1 << 30,
    log,
  });
  const ctx = {
    node: { storage: new LinuxStorage((fs as LoopFs).root), etcdSnapshots: snapshots } as unknown as NodeBackend,
    state: new MemoryAgentState(),
    settings: { allowExec: [], allowFileRead: [], allowFileWrite: [], fsfreezeTimeout: 0, etcdSnapshotRequired: opts.required === true },
    log,
  } as unknown as CommandContext;
  return { ctx, warnings, snapshots, dir };
}

const freezer = () => createFreezeHandlers(new FreezeController({ runHook: runFsfreezeHook }));

describe('etcd snapshot before the freeze: real etcd, real ext4', { timeout: 120_000, concurrency: false }, () => {
  test('freeze-list: a verified snapshot is on the frozen filesystem before the freeze returns; etcd restores it', async (t) => {
    if (skip()) return t.skip(String(skip()));
    for (let i = 0; i < 50; i++) plain.put(`/registry/configmaps/default/cm${i}`, `data-${i}-${'x'.repeat(200)}`);
    const lastWrite = plain.revision();
    const h = harness('snap-plain', plain);
    const f = freezer();
    assert.equal(await f['guest-fsfreeze-freeze-list']?.({ mountpoints: [fs?.mnt] }, h.ctx), 1);
    let file: string;
    try {
      assert.equal(await f['guest-fsfreeze-status']?.({}, h.ctx), 'frozen');
      const probe = await probeWrite((fs as LoopFs).mnt);
      assert.equal(probe.blocked, true, 'the filesystem is frozen');
      // Reading works on a frozen filesystem: the snapshot is there already, whole.
      const names = readdirSync(h.dir);
      assert.equal(names.length, 1, `one snapshot: ${names.join(' ')}`);
      file = path.join(h.dir, names[0] as string);
      const last = h.snapshots.last();
      assert.equal(last?.trigger, 'freeze');
      assert.equal(last?.snapshot?.path, file);
      assert.equal(sha256(readFileSync(file)), last?.snapshot?.sha256);
      assert.equal(readFileSync(file).length % 512, 32, "etcd's digest is appended");
      assert.match(names[0] as string, new RegExp(`^etcd-\\d{8}T\\d{6}\\.\\d{3}Z-rev${last?.snapshot?.revision}\\.db$`));
    } finally {
      assert.equal(await f['guest-fsfreeze-thaw']?.({}, h.ctx), 1);
    }
    const status = snapshotStatus(file);
    assert.ok(status.revision >= lastWrite, `etcdctl reports revision ${status.revision} >= the last write ${lastWrite}`);
    assert.equal(status.revision, h.snapshots.last()?.snapshot?.revision, "our revision is etcd's");
    // Restore into a fresh data dir and serve it: the keys are back.
    const restored = path.join((fs as LoopFs).dir, 'restored-data');
    restoreSnapshot(file, restored, 'restored');
    const back = await startEtcd({ dataDir: restored, name: 'restored' });
    try {
      const got = back.ctl(['get', '/registry/configmaps/default/cm49', '--print-value-only']);
      assert.equal(got.stdout.trim(), `data-49-${'x'.repeat(200)}`);
      // etcdctl 3.4 has no --count-only: count the keys.
      const keys = back.ctl(['get', '/registry/configmaps/', '--prefix', '--keys-only']);
      assert.equal(keys.stdout.split('\n').filter(Boolean).length, 50);
    } finally {
      await back.stop();
    }
  });

  test('TLS with client certificates, found the kubeadm way (static pod manifest, healthcheck client)', async (t) => {
    if (skip()) return t.skip(String(skip()));
    secure.put('/registry/secrets/kube-system/token', 'sekret');
    // A kubeadm control plane's files, as detectEtcd reads them, under a root of our own.
    const root = path.join((fs as LoopFs).dir, 'kubeadm-root');
    const pki = path.join(root, 'etc/kubernetes/pki/etcd');
    mkdirSync(pki, { recursive: true });
    mkdirSync(path.join(root, 'etc/kubernetes/manifests'), { recursive: true });
    copyFileSync(tls.ca, path.join(pki, 'ca.crt'));
    copyFileSync(tls.clientCert, path.join(pki, 'healthcheck-client.crt'));
    copyFileSync(tls.clientKey, path.join(pki, 'healthcheck-client.key'));
    const port = new URL(secure.url).port;
    writeFileSync(
      path.join(root, 'etc/kubernetes/manifests/etcd.yaml'),
      `spec:\n  containers:\n  - command:\n    - etcd\n    - --listen-client-urls=https://10.0.0.9:${port},https://127.0.0.1:${port}\n`,
    );
    const access = detectEtcd({ etcdEndpoints: [] }, root);
    assert.equal(access?.via, 'kubeadm');
    assert.equal(access?.endpoints[0]?.url, `https://127.0.0.1:${port}`, 'the loopback URL first');
    const h = harness('snap-tls', secure);
    const snaps = new Snapshotter(new EtcdGrpcSource(access as NonNullable<typeof access>), {
      dir: h.dir,
      keep: 3,
      timeoutMs: 5000,
      maxBytes: 1 << 30,
      log: h.ctx.log,
    });
    const ctx = { ...h.ctx, node: { ...h.ctx.node, etcdSnapshots: snaps } } as CommandContext;
    const f = freezer();
    assert.equal(await f['guest-fsfreeze-freeze-list']?.({ mountpoints: [fs?.mnt] }, ctx), 1);
    assert.equal(await f['guest-fsfreeze-thaw']?.({}, ctx), 1);
    const snap = snaps.last()?.snapshot;
    assert.ok(snap, JSON.stringify(snaps.last()));
    assert.equal(snapshotStatus(snap.path).revision, secure.revision());
  });

  test('rotation keeps the newest N, named by time and revision', async (t) => {
    if (skip()) return t.skip(String(skip()));
    const h = harness('snap-rotate', plain, { keep: 2 });
    const f = freezer();
    const revisions: number[] = [];
    for (let i = 0; i < 4; i++) {
      plain.put('/rotate', String(i));
      assert.equal(await f['guest-fsfreeze-freeze-list']?.({ mountpoints: [fs?.mnt] }, h.ctx), 1);
      assert.equal(await f['guest-fsfreeze-thaw']?.({}, h.ctx), 1);
      revisions.push(h.snapshots.last()?.snapshot?.revision as number);
    }
    const names = readdirSync(h.dir).sort();
    assert.equal(names.length, 2, names.join(' '));
    assert.deepEqual(
      names.map((n) => Number(/-rev(\d+)\.db$/.exec(n)?.[1])),
      revisions.slice(2),
    );
  });

  test('etcd stopped: the freeze still freezes; the failure is logged and reported', async (t) => {
    if (skip()) return t.skip(String(skip()));
    const gone = await startEtcd({ dataDir: path.join((fs as LoopFs).dir, 'etcd-gone') });
    await gone.stop();
    const h = harness('snap-gone', gone);
    const f = freezer();
    assert.equal(await f['guest-fsfreeze-freeze-list']?.({ mountpoints: [fs?.mnt] }, h.ctx), 1);
    assert.equal(await f['guest-fsfreeze-thaw']?.({}, h.ctx), 1);
    const last = h.snapshots.last();
    assert.equal(last?.snapshot, undefined);
    assert.equal(last?.code, 'ETCD_UNREACHABLE');
    assert.match(last?.error ?? '', /unreachable/);
    assert.equal(h.warnings.length, 1);
    assert.match(JSON.stringify(h.warnings[0]), /freezing anyway/);
    assert.deepEqual(readdirSync(h.dir), [], 'no partial file left');
  });

  test('etcd hung (SIGSTOP): the snapshot gives up at --etcd-snapshot-timeout and the freeze goes on', async (t) => {
    if (skip()) return t.skip(String(skip()));
    const hung = await startEtcd({ dataDir: path.join((fs as LoopFs).dir, 'etcd-hung') });
    const h = harness('snap-hung', hung, { timeoutMs: 1000 });
    process.kill(hung.pid, 'SIGSTOP');
    try {
      const f = freezer();
      assert.equal(await f['guest-fsfreeze-freeze-list']?.({ mountpoints: [fs?.mnt] }, h.ctx), 1);
      assert.equal(await f['guest-fsfreeze-thaw']?.({}, h.ctx), 1);
      assert.equal(h.snapshots.last()?.code, 'ETCD_SNAPSHOT_TIMEOUT');
      assert.match(h.snapshots.last()?.error ?? '', /within 1 s \(0 bytes received\)/);
    } finally {
      process.kill(hung.pid, 'SIGCONT');
      await hung.stop();
    }
    assert.deepEqual(readdirSync(h.dir), [], 'no partial file left');
  });

  test('--etcd-snapshot-required: etcd stopped fails the freeze with the reason, and nothing is frozen', async (t) => {
    if (skip()) return t.skip(String(skip()));
    const gone = await startEtcd({ dataDir: path.join((fs as LoopFs).dir, 'etcd-gone-2') });
    await gone.stop();
    const h = harness('snap-required', gone, { required: true });
    const f = freezer();
    await assert.rejects(
      Promise.resolve(f['guest-fsfreeze-freeze-list']?.({ mountpoints: [fs?.mnt] }, h.ctx)),
      (e: Error & { errorClass?: string; desc?: string }) =>
        e.errorClass === 'GenericError' && /nothing was frozen.*--etcd-snapshot-required.*unreachable/.test(e.desc ?? ''),
    );
    assert.equal(h.ctx.state.frozen, false);
    assert.equal(await f['guest-fsfreeze-status']?.({}, h.ctx), 'thawed');
    const probe = await probeWrite((fs as LoopFs).mnt);
    assert.equal(probe.blocked, false, 'nothing stayed frozen');
  });
});
