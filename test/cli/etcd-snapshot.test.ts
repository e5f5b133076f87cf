// guestlink etcd-snapshot against real agents (their etcd a gRPC double streaming a bbolt database
// with etcd's digest): one VM to a file, json output, and the fleet form over a control-plane agent
// and a worker (skipped, not failed), each snapshot named after its VM.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdirSync, readdirSync, readFileSync, symlinkSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { buildBoltDb, withDigest } from '../../src/node/etcd/bolt.test-util.js';
import { EtcdMaintenanceDouble } from '../doubles/etcd-maintenance.js';
import { makeTempDir, type Peer, startGuestlink } from '../peer/harness.js';
import { runCli } from './run-cli.js';

const DB = withDigest(buildBoltDb({ revisions: [3, 4, 77], branch: true }));
const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');

describe('guestlink etcd-snapshot', () => {
  let dir: string;
  let double: EtcdMaintenanceDouble;
  let cp: Peer;
  let worker: Peer;
  let cpVm: string;
  let workerVm: string;

  before(async () => {
    dir = makeTempDir('guestlink-cli-etcd-');
    double = await EtcdMaintenanceDouble.start();
    double.behaviour = { kind: 'bytes', data: DB };
    const cpDir = path.join(dir, 'cp');
    mkdirSync(cpDir);
    cp = await startGuestlink(cpDir, [
      '--etcd-snapshot-dir',
      path.join(cpDir, 'snaps'),
      '--etcd-snapshot-on-demand',
      '--etcd-endpoints',
      double.url,
    ]);
    // A worker: the directory is set, but no etcd is configured or found on this machine.
    const wDir = path.join(dir, 'worker');
    mkdirSync(wDir);
    worker = await startGuestlink(wDir, ['--etcd-snapshot-dir', path.join(wDir, 'snaps'), '--etcd-snapshot-on-demand']);
    // Socket names become VM names in fleet mode: give them distinct ones.
    cpVm = path.join(dir, 'k8s-cp1.sock');
    workerVm = path.join(dir, 'k8s-worker1.sock');
    symlinkSync(cp.socket, cpVm);
    symlinkSync(worker.socket, workerVm);
  });
  after(async () => {
    await cp?.stop();
    await worker?.stop();
    await double?.stop();
  });

  test('one VM to a file: the bytes of the snapshot, checked, with its revision', async () => {
    const out = path.join(dir, 'one.db');
    const r = await runCli(['etcd-snapshot', `unix:${cpVm}`, '-f', out]);
    assert.equal(r.status, 0, r.stderr);
    assert.deepEqual(readFileSync(out), DB);
    assert.match(r.stdout, new RegExp(`one\\.db: revision 77, .*sha256 ${sha(DB)} \\(matches the agent's, etcd digest ok\\)`));
  });

  test('-o json into a directory: the guest name is kept', async () => {
    const d = path.join(dir, 'json');
    mkdirSync(d);
    const r = await runCli(['etcd-snapshot', `unix:${cpVm}`, '-f', d, '-o', 'json']);
    assert.equal(r.status, 0, r.stderr);
    const j = JSON.parse(r.stdout);
    assert.equal(j.revision, 77);
    assert.equal(j.sha256, sha(DB));
    assert.equal(j.bytes, DB.length);
    assert.equal(path.dirname(j.file), d);
    assert.match(path.basename(j.file), /^etcd-\d{8}T\d{6}\.\d{3}Z-rev77\.db$/);
  });

  test('a worker alone: exit 1 with the reason', async () => {
    const r = await runCli(['etcd-snapshot', `unix:${workerVm}`, '-f', path.join(dir, 'w.db')]);
    assert.equal(r.status, 1, r.stderr);
    assert.match(r.stderr, /no etcd snapshots on this node/);
  });

  test('fleet form: the control plane copied (named after the VM), the worker skipped; exit 0', async () => {
    const d = path.join(dir, 'fleet');
    mkdirSync(d);
    const r = await runCli(['etcd-snapshot', `unix:${cpVm}`, `unix:${workerVm}`, '-f', d, '-q']);
    assert.equal(r.status, 0, r.stdout + r.stderr);
    assert.match(r.stdout, /k8s-cp1\.sock +ok .*revision 77/);
    assert.match(r.stdout, /k8s-worker1\.sock +ok .*skipped: no etcd on this node/);
    const files = readdirSync(d);
    assert.equal(files.length, 1, files.join(' '));
    assert.match(files[0] as string, /^k8s-cp1-etcd-\d{8}T\d{6}\.\d{3}Z-rev77\.db$/);
    assert.deepEqual(readFileSync(path.join(d, files[0] as string)), DB);
  });

  test('fleet form refuses a file as the target', async () => {
    const r = await runCli(['etcd-snapshot', `unix:${cpVm}`, `unix:${workerVm}`, '-f', path.join(dir, 'one.db'), '-q']);
    assert.notEqual(r.status, 0);
    assert.match(r.stdout + r.stderr, /must be an existing directory/);
  });
});
