// Proxmox VE's way of talking to the agent (test/doubles/pve-client.ts: a connection per command,
// sync-delimited + command in one write) against guestlink in a QEMU VM (TCG). The VM gets a small
// ext4 disk (/dev/vda, made here with mkfs.ext4 in a temp dir) mounted at /mnt/data, so freeze, thaw
// and fstrim act on a real block filesystem (the guest's root is 9p + a tmpfs overlay, which cannot be
// frozen). Last, guest-shutdown: Proxmox counts the EOF after the sync reply as success, and QEMU exits.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { pveCommand } from '../doubles/pve-client.js';
import { QmpClient } from './vm/qmp.js';
import { bootVm, defaultAgentCommand, REPO_ROOT, type Vm, vmUnavailableReason } from './vm/vm.js';

const ADDON = path.join(REPO_ROOT, 'build/Release/guestlink.node');
const skip =
  vmUnavailableReason() ??
  (existsSync('/usr/sbin/mkfs.ext4') || existsSync('/sbin/mkfs.ext4')
    ? undefined
    : 'proxmox VM tests skipped: mkfs.ext4 missing (e2fsprogs)') ??
  (existsSync(ADDON) ? undefined : `proxmox VM tests skipped: ${ADDON} not built (npm run build:native)`);
if (skip) console.log(`# ${skip}`);

describe('Proxmox-style calls to guestlink in a VM', { skip, timeout: 180_000, concurrency: false }, () => {
  let vm: Vm;
  let tmp: string;

  before(async () => {
    tmp = mkdtempSync(path.join(os.tmpdir(), 'glpve-'));
    const img = path.join(tmp, 'data.img');
    execFileSync('truncate', ['-s', '64M', img]);
    execFileSync('mkfs.ext4', ['-q', '-F', '-L', 'gldata', img], { stdio: 'ignore' });
    const mount = 'mkdir -p /mnt/data && /run/glvm/busybox mount -t ext4 /dev/vda /mnt/data && echo hello > /mnt/data/hello';
    vm = await bootVm({
      guestCommand: `${mount}; ${defaultAgentCommand(['--power', 'syscall'])}`,
      extraQemuArgs: ['-drive', `file=${img},format=raw,if=none,id=data0,discard=unmap`, '-device', 'virtio-blk-pci,drive=data0'],
    });
    await vm.firstConnection?.close();
  });

  after(async () => {
    await vm?.stop();
    if (tmp) rmSync(tmp, { recursive: true, force: true });
  });

  test('guest-fsfreeze-status / freeze / thaw: the ext4 disk is frozen and thawed (count 1)', async () => {
    const st0 = await pveCommand(vm.qgaSocket, 'guest-fsfreeze-status');
    assert.deepEqual(st0.reply, { return: 'thawed' });
    const fr = await pveCommand(vm.qgaSocket, 'guest-fsfreeze-freeze');
    assert.deepEqual(fr.reply, { return: 1 }, `freeze: ${JSON.stringify(fr.reply)}`);
    const st1 = await pveCommand(vm.qgaSocket, 'guest-fsfreeze-status');
    assert.deepEqual(st1.reply, { return: 'frozen' });
    const th = await pveCommand(vm.qgaSocket, 'guest-fsfreeze-thaw');
    assert.deepEqual(th.reply, { return: 1 });
    const st2 = await pveCommand(vm.qgaSocket, 'guest-fsfreeze-status');
    assert.deepEqual(st2.reply, { return: 'thawed' });
    console.log(`# pve freeze ${fr.ms.toFixed(0)} ms, thaw ${th.ms.toFixed(0)} ms`);
  });

  test('guest-fstrim trims the ext4 disk', async () => {
    const r = await pveCommand(vm.qgaSocket, 'guest-fstrim', { minimum: 0 });
    type Trim = { paths: { path: string; trimmed?: number; minimum?: number; error?: string }[] };
    assert.equal(r.reply?.error, undefined);
    const paths = (r.reply?.return as Trim | undefined)?.paths ?? [];
    const data = paths.find((p) => p.path === '/mnt/data');
    assert.ok(data, `no /mnt/data in ${JSON.stringify(paths)}`);
    assert.equal(data.error, undefined);
    assert.equal(typeof data.trimmed, 'number');
    assert.ok((data.trimmed ?? 0) > 0, `nothing trimmed: ${JSON.stringify(data)}`);
    console.log(`# pve fstrim: ${JSON.stringify(paths)}`);
  });

  test('guest-shutdown: accepted on EOF, QMP SHUTDOWN, QEMU exits and the socket closes', async () => {
    const qmp = await QmpClient.connect(vm.qmpSocket);
    try {
      const r = await pveCommand(vm.qgaSocket, 'guest-shutdown', { mode: 'powerdown' });
      assert.equal(r.closedAfterSync, true);
      assert.equal(r.reply, undefined);
      const ev = await qmp.waitEvent('SHUTDOWN', 30_000);
      assert.equal((ev.data as { guest?: boolean }).guest, true);
      const deadline = Date.now() + 10_000;
      while (vm.alive() && Date.now() < deadline) await new Promise((res) => setTimeout(res, 50));
      assert.equal(vm.alive(), false);
      console.log(`# pve guest-shutdown: EOF after ${r.ms.toFixed(0)} ms`);
    } finally {
      await qmp.close();
    }
  });
});
