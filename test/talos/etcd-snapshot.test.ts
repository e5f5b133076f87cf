// etcd snapshots on Talos: the real agent (--node-backend talos) against the Talos API double, whose
// EtcdSnapshot streams a real snapshot made by a real etcd (etcdctl snapshot save) in 4 KiB
// common.Data chunks, with machined's roles (os:admin, os:operator, os:etcd:backup; os:reader
// refused) and its control-plane check (Unimplemented on a worker). Talos cannot freeze: the freeze
// request takes the snapshot, then is refused as unsupported, naming the snapshot it took.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { TalosApiDouble } from '../doubles/talos-api.js';
import { etcdMissing, saveSnapshot, snapshotStatus, startEtcd } from '../etcd/real-etcd.js';
import { makeTempDir, type Peer, startGuestlink } from '../peer/harness.js';
import { fillFixtures, plain, qga, show } from './helpers.js';
import { type KeyPair, makeCa, makeLeaf, writeTalosconfig } from './pki.js';

const skip = etcdMissing();
if (skip) console.log(`# ${skip}`);

const machineType = (spec: string) => ({
  namespace: 'config',
  type: 'MachineTypes.config.talos.dev',
  id: 'machine-type',
  yaml: `${spec}\n`,
});
const sha256 = (b: Buffer) => createHash('sha256').update(b).digest('hex');

describe('etcd snapshots through the Talos API (double, real snapshot bytes)', { skip, concurrency: false }, () => {
  let dir: string;
  let snapshot: { bytes: Buffer; revision: number };
  const peers: Peer[] = [];
  const doubles: TalosApiDouble[] = [];

  const socketDouble = async (name: string, type = 'controlplane') => {
    const d = await TalosApiDouble.start({ kind: 'unix', path: path.join(dir, `${name}.sock`) });
    fillFixtures(d);
    d.state.resources.push(machineType(type));
    d.state.machineType = type;
    d.state.etcdSnapshot = snapshot.bytes;
    doubles.push(d);
    return d;
  };
  /** An agent on a fresh socket double named `name`, claiming `role`, snapshots into <dir>/var-<name>. */
  const onSocket = async (name: string, role: string, extra: string[] = []) => {
    const d = await socketDouble(name);
    const snaps = path.join(dir, `var-${name}`);
    const a = await agent(['--talos-socket', d.address.slice(5), '--talos-role', role, '--etcd-snapshot-dir', snaps, ...extra]);
    return { d, a, snaps };
  };
  const agent = async (args: string[]) => {
    const p = await startGuestlink(mkdtempSync(path.join(dir, 'agent-')), ['--node-backend', 'talos', '--power', 'auto', ...args]);
    peers.push(p);
    return p;
  };

  before(async () => {
    dir = makeTempDir('guestlink-talos-etcd-');
    const etcd = await startEtcd({ dataDir: path.join(dir, 'etcd-data') });
    try {
      for (let i = 0; i < 20; i++) etcd.put(`/registry/secrets/default/s${i}`, `value-${i}`);
      snapshot = saveSnapshot(etcd, path.join(dir, 'source.db'));
    } finally {
      await etcd.stop();
    }
  });
  after(async () => {
    for (const p of peers) await p.stop();
    for (const d of doubles) await d.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  test('os:operator on the socket: guest-fsfreeze-freeze takes the snapshot, then is refused as unsupported, naming it', async () => {
    const { d, a, snaps } = await onSocket('operator', 'os:operator');
    const r = await qga(a.socket, 'guest-fsfreeze-freeze', undefined, 10_000);
    assert.ok('error' in r, show(r));
    assert.equal(r.error.class, 'GenericError');
    assert.match(r.error.desc, /not currently supported: fsfreeze on Talos/);
    const m = /an etcd snapshot was taken before: (\S+) \(revision (\d+)\)/.exec(r.error.desc);
    assert.ok(m, r.error.desc);
    assert.equal(Number(m[2]), snapshot.revision);
    const file = m[1] as string;
    assert.equal(path.dirname(file), snaps);
    assert.deepEqual(readFileSync(file), snapshot.bytes, 'the file is the stream, byte for byte');
    assert.equal(snapshotStatus(file).revision, snapshot.revision, 'etcdctl reads it');
    assert.equal(d.callsTo('EtcdSnapshot').at(-1)?.talosRole, 'os:operator');
    // The freeze stays what it was on Talos: status and thaw disabled.
    const st = await qga(a.socket, 'guest-fsfreeze-status');
    assert.ok('error' in st && st.error.class === 'CommandNotFound', show(st));
    const s = await qga(a.socket, 'guestlink-etcd-snapshot-status');
    assert.ok('return' in s, show(s));
    const ret = s.return as { enabled: boolean; last: { trigger: string; ok: boolean; snapshot: { path: string; sha256: string } } };
    assert.equal(ret.enabled, true);
    assert.equal(ret.last.trigger, 'freeze');
    assert.equal(ret.last.ok, true);
    assert.equal(ret.last.snapshot.path, file);
    assert.equal(ret.last.snapshot.sha256, sha256(snapshot.bytes));
  });

  test('guestlink-etcd-snapshot (on demand) returns path, revision, size and sha256; off without --etcd-snapshot-on-demand', async () => {
    const d = await socketDouble('ondemand');
    const snaps = path.join(dir, 'var-ondemand');
    const off = await agent(['--talos-socket', d.address.slice(5), '--etcd-snapshot-dir', snaps]);
    const refused = await qga(off.socket, 'guestlink-etcd-snapshot');
    assert.ok('error' in refused && refused.error.class === 'CommandNotFound' && /disabled/.test(refused.error.desc), show(refused));
    const on = await agent([
      '--talos-socket',
      d.address.slice(5),
      '--etcd-snapshot-dir',
      snaps,
      '--etcd-snapshot-on-demand',
      '--etcd-snapshot-keep',
      '2',
    ]);
    const results = [];
    for (let i = 0; i < 3; i++) {
      const r = await qga(on.socket, 'guestlink-etcd-snapshot', undefined, 10_000);
      assert.ok('return' in r, show(r));
      results.push(r.return as { path: string; revision: number; size: number; sha256: string; source: string });
      await new Promise((res) => setTimeout(res, 5)); // distinct millisecond stamps in the names
    }
    const last = results.at(-1);
    assert.equal(Number(last?.revision), snapshot.revision);
    assert.equal(Number(last?.size), snapshot.bytes.length);
    assert.equal(last?.sha256, sha256(snapshot.bytes));
    assert.equal(last?.source, 'Talos EtcdSnapshot');
    assert.deepEqual(
      readdirSync(snaps).sort(),
      results
        .slice(1)
        .map((x) => path.basename(x.path))
        .sort(),
      'the newest 2 are kept',
    );
  });

  test('os:reader: warned at start-up, EtcdSnapshot refused, the freeze is refused as before and the failure is reported', async () => {
    const { d, a } = await onSocket('reader', 'os:reader');
    assert.match(a.stderr(), /Talos will refuse EtcdSnapshot/);
    const r = await qga(a.socket, 'guest-fsfreeze-freeze', undefined, 10_000);
    assert.ok('error' in r && /not currently supported/.test(r.error.desc) && !/etcd snapshot was taken/.test(r.error.desc), show(r));
    const s = await qga(a.socket, 'guestlink-etcd-snapshot-status');
    const last = (s as { return: { last: { ok: boolean; code: string; error: string } } }).return.last;
    assert.equal(last.ok, false);
    assert.equal(last.code, 'ETCD_REFUSED');
    assert.match(last.error, /EtcdSnapshot.*os:etcd:backup/);
    assert.equal(d.callsTo('EtcdSnapshot').at(-1)?.talosRole, 'os:reader');
  });

  test('os:reader with --etcd-snapshot-required: the freeze fails with the reason', async () => {
    const { a } = await onSocket('reader-required', 'os:reader', ['--etcd-snapshot-required']);
    const r = await qga(a.socket, 'guest-fsfreeze-freeze', undefined, 10_000);
    assert.ok('error' in r && r.error.class === 'GenericError', show(r));
    assert.match(r.error.desc, /nothing was frozen: the etcd snapshot failed and --etcd-snapshot-required is set: .*refused EtcdSnapshot/);
  });

  test('a worker (MachineType worker): nothing is loaded, the freeze stays disabled, status says off', async () => {
    const d = await socketDouble('worker', 'worker');
    const a = await agent(['--talos-socket', d.address.slice(5), '--etcd-snapshot-dir', path.join(dir, 'var-worker')]);
    const r = await qga(a.socket, 'guest-fsfreeze-freeze');
    assert.ok('error' in r && r.error.class === 'CommandNotFound', show(r));
    assert.deepEqual(plain(await qga(a.socket, 'guestlink-etcd-snapshot-status')), { return: { enabled: false } });
    assert.equal(d.callsTo('EtcdSnapshot').length, 0);
  });

  test('apid mTLS with a certificate carrying only os:etcd:backup: the snapshot is taken (and shutdown is warned about)', async () => {
    const pki = path.join(dir, 'pki');
    const { mkdirSync } = await import('node:fs');
    mkdirSync(pki);
    const ca = makeCa(pki, 'talos-ca');
    const server = makeLeaf(pki, 'talos-ca', 'apid', { orgs: ['talos'], server: true });
    const backup: KeyPair = makeLeaf(pki, 'talos-ca', 'backup', { orgs: ['os:etcd:backup'] });
    const d = await TalosApiDouble.start({ kind: 'mtls', ca: ca.crt, cert: server.crt, key: server.key });
    doubles.push(d);
    fillFixtures(d);
    d.state.resources.push(machineType('controlplane'));
    d.state.etcdSnapshot = snapshot.bytes;
    const cfg = path.join(pki, 'backup.talosconfig');
    writeTalosconfig(cfg, { endpoint: d.address, ca: ca.crt, client: backup });
    const a = await agent([
      '--talosconfig',
      cfg,
      '--talos-node',
      '10.5.0.2',
      '--etcd-snapshot-dir',
      path.join(dir, 'var-mtls'),
      '--etcd-snapshot-on-demand',
    ]);
    assert.match(a.stderr(), /Talos will refuse guest-shutdown/);
    assert.doesNotMatch(a.stderr(), /refuse EtcdSnapshot/);
    const r = await qga(a.socket, 'guestlink-etcd-snapshot', undefined, 10_000);
    assert.ok('return' in r, show(r));
    assert.equal((r.return as { sha256: string }).sha256, sha256(snapshot.bytes));
    const call = d.callsTo('EtcdSnapshot').at(-1);
    assert.deepEqual(call?.roles, ['os:etcd:backup']);
    assert.equal(call?.node, '10.5.0.2');
  });
});
