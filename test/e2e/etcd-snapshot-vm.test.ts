// Proxmox-style backup of a control-plane VM: guestlink runs as a real process in a QEMU VM (TCG)
// beside a real etcd (the host's /usr/bin/etcd, seen through 9p) whose data dir is on the VM's ext4
// disk (/dev/vda, prepared here with `mkfs.ext4 -d`, the database written by a host etcd first).
// Proxmox's calls (test/doubles/pve-client.ts: sync-delimited + command per connection) freeze: the
// agent takes the etcd snapshot onto that disk, then freezes it; the snapshot status is read while
// frozen; thaw. The snapshot is then copied out with `guestlink etcd-snapshot` and read by etcdctl.
// GUESTLINK_VM_ETCD_MIB sets the database size (default 4 MiB of values; TCG is slow).
// Heavy: run under flock /tmp/guestlink-heavy.lock.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { runCli } from '../cli/run-cli.js';
import { pveCommand } from '../doubles/pve-client.js';
import { ETCD, etcdMissing, snapshotStatus, startEtcd } from '../etcd/real-etcd.js';
import { bootVm, defaultAgentCommand, type Vm, vmUnavailableReason } from './vm/vm.js';

const MIB = Number(process.env.GUESTLINK_VM_ETCD_MIB ?? 4);
const skip =
  vmUnavailableReason() ??
  etcdMissing() ??
  (existsSync('/usr/sbin/mkfs.ext4') || existsSync('/sbin/mkfs.ext4') ? undefined : 'etcd VM test skipped: mkfs.ext4 missing (e2fsprogs)');
if (skip) console.log(`# ${skip}`);

describe('Proxmox-style freeze of a control-plane VM: etcd snapshot, freeze, thaw', { skip, timeout: 900_000, concurrency: false }, () => {
  let vm: Vm;
  let tmp: string;
  let revision: number;

  before(async () => {
    tmp = mkdtempSync(path.join(os.tmpdir(), 'gletcdvm-'));
    // The database, written by a host etcd, then put on the VM's disk with mkfs.ext4 -d.
    const tree = path.join(tmp, 'tree');
    mkdirSync(tree);
    const etcd = await startEtcd({ dataDir: path.join(tree, 'etcd-data'), name: 'cp1' });
    try {
      etcd.put('/registry/namespaces/default', 'ns');
      for (let i = 0; i < MIB; i++) etcd.put(`/registry/blobs/b${i}`, randomBytes(1 << 20));
      revision = etcd.revision();
    } finally {
      await etcd.stop();
    }
    const img = path.join(tmp, 'data.img');
    execFileSync('truncate', ['-s', `${Math.max(256, MIB * 6 + 128)}M`, img]);
    execFileSync('mkfs.ext4', ['-q', '-F', '-L', 'gldata', '-d', tree, img], { stdio: 'ignore' });
    const etcdArgs = [
      '--name cp1',
      '--data-dir /mnt/data/etcd-data',
      '--listen-client-urls http://127.0.0.1:2379',
      '--advertise-client-urls http://127.0.0.1:2379',
      '--listen-peer-urls http://127.0.0.1:2380',
      '--logger zap --log-level error',
    ].join(' ');
    const setup = `mkdir -p /mnt/data && /run/glvm/busybox mount -t ext4 /dev/vda /mnt/data && (${ETCD} ${etcdArgs} >/run/etcd.log 2>&1 &)`;
    const agent = defaultAgentCommand([
      '--etcd-snapshot-dir',
      '/mnt/data/etcd-snapshots',
      '--etcd-endpoints',
      'http://127.0.0.1:2379',
      // TCG runs etcd and the agent 10-50x slower than hardware; Proxmox waits 10 min for a freeze.
      '--etcd-snapshot-timeout',
      '300',
      '--etcd-snapshot-on-demand',
    ]);
    vm = await bootVm({
      guestCommand: `${setup}; ${agent}`,
      memoryMb: 1024,
      extraQemuArgs: ['-drive', `file=${img},format=raw,if=none,id=data0`, '-device', 'virtio-blk-pci,drive=data0'],
    });
    await vm.firstConnection?.close();
  });

  after(async () => {
    await vm?.stop();
    if (tmp) rmSync(tmp, { recursive: true, force: true });
  });

  test('guest-fsfreeze-freeze takes the snapshot onto the disk it freezes; status while frozen; thaw', async () => {
    // etcd inside the VM starts beside the agent: wait until it answers (a status of the last attempt).
    for (let i = 0; ; i++) {
      const r = await pveCommand(vm.qgaSocket, 'guestlink-etcd-snapshot', {}, 600);
      if (r.reply?.return) break;
      if (i > 60) assert.fail(`etcd in the VM never answered: ${JSON.stringify(r.reply)}\n${vm.console().slice(-2000)}`);
      await new Promise((res) => setTimeout(res, 2000));
    }
    const fr = await pveCommand(vm.qgaSocket, 'guest-fsfreeze-freeze');
    assert.deepEqual(fr.reply, { return: 1 }, `freeze: ${JSON.stringify(fr.reply)}`);
    let snapMs = 0;
    try {
      const st = await pveCommand(vm.qgaSocket, 'guest-fsfreeze-status');
      assert.deepEqual(st.reply, { return: 'frozen' });
      const s = await pveCommand(vm.qgaSocket, 'guestlink-etcd-snapshot-status');
      type Status = { last: { trigger: string; ok: boolean; snapshot: { path: string; revision: number; 'duration-ms': number } } };
      assert.ok(s.reply?.return, JSON.stringify(s.reply));
      const last = (s.reply.return as Status).last;
      assert.equal(last.trigger, 'freeze');
      assert.equal(last.ok, true, JSON.stringify(last));
      assert.match(last.snapshot.path, /^\/mnt\/data\/etcd-snapshots\/etcd-\d{8}T\d{6}\.\d{3}Z-rev\d+\.db$/);
      assert.ok(last.snapshot.revision >= revision);
      snapMs = last.snapshot['duration-ms'];
    } finally {
      const th = await pveCommand(vm.qgaSocket, 'guest-fsfreeze-thaw');
      assert.deepEqual(th.reply, { return: 1 });
    }
    console.log(
      `# VM (TCG), ${MIB} MiB of values: freeze request to frozen ${fr.ms.toFixed(0)} ms, of which the etcd snapshot ${snapMs} ms`,
    );
  });

  test('guestlink etcd-snapshot copies one out; etcdctl reads it on the host', async () => {
    const out = path.join(tmp, 'copy.db');
    const r = await runCli(['etcd-snapshot', `unix:${vm.qgaSocket}`, '-f', out, '--timeout', '600'], { timeoutMs: 900_000 });
    assert.equal(r.status, 0, r.stderr);
    assert.ok(snapshotStatus(out).revision >= revision);
  });
});
