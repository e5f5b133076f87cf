// The arm64 single executable as the agent inside an aarch64 VM: QEMU's virt board under TCG with
// Debian's arm64 kernel and busybox (test/e2e/vm/arch.ts), the host's / over 9p as for the x86_64 VM.
// On the real virtio-serial port it answers guest-sync-delimited (the boot waits for that), reports
// the real arm64 kernel and the VM's address, freezes and thaws an ext4 disk through its addon's
// FIFREEZE/FITHAW and trims it with FITRIM (in this guest nothing else could: the host's util-linux is
// amd64), and guest-shutdown powers the VM off through the addon's reboot(2): QMP SHUTDOWN, QEMU
// exits. One boot for all of it: TCG emulating arm64 on this host is the slowest part of the suite.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { buildSea, missingTools, type SeaBuild } from '../package/build.js';
import { makeTempDir } from '../peer/harness.js';
import { type QgaConnection, waitForAgent } from './vm/qga.js';
import { QmpClient } from './vm/qmp.js';
import { bootVm, defaultAgentCommand, type Vm, vmUnavailableReason } from './vm/vm.js';

const skip =
  vmUnavailableReason('aarch64') ??
  missingTools('aarch64-linux-gnu-gcc') ??
  (existsSync('/usr/sbin/mkfs.ext4') || existsSync('/sbin/mkfs.ext4') ? undefined : 'mkfs.ext4 missing (apt-get install e2fsprogs)');
if (skip) console.log(`# ${skip}`);

interface Iface {
  name: string;
  'ip-addresses'?: { 'ip-address': string; 'ip-address-type': string; prefix: number }[];
}

describe('the arm64 executable in an aarch64 VM (virt, TCG)', { skip, timeout: 600_000 }, () => {
  let sea: SeaBuild;
  let vm: Vm | undefined;
  let conn: QgaConnection;

  before(async () => {
    sea = await buildSea('arm64');
    assert.ok(sea.addon, 'the arm64 executable was built without its addon');
    const dir = makeTempDir('guestlink-aarch64-vm-');
    const img = path.join(dir, 'data.img');
    execFileSync('truncate', ['-s', '64M', img]);
    execFileSync('mkfs.ext4', ['-q', '-F', '-L', 'gldata', img], { stdio: 'ignore' });
    // busybox's mount: the guest cannot run the host's (amd64) one.
    const mount = 'mkdir -p /mnt/data && mount -t ext4 /dev/vda /mnt/data && echo hello > /mnt/data/hello';
    vm = await bootVm({
      arch: 'aarch64',
      guestCommand: `${mount}; ${defaultAgentCommand(['--power', 'syscall'], sea.exe)}`,
      extraQemuArgs: ['-drive', `file=${img},format=raw,if=none,id=data0,discard=unmap`, '-device', 'virtio-blk-pci,drive=data0'],
      hostname: 'gl-arm64',
      readyTimeoutMs: 300_000,
    });
    console.log(`# aarch64 VM: boot to agent answering guest-sync-delimited: ${vm.bootToReadyMs.toFixed(0)} ms`);
    conn = vm.firstConnection ?? (await waitForAgent(vm.qgaSocket, 60_000, vm.alive));
  });
  after(async () => {
    await conn?.close();
    await vm?.stop();
  });

  test('the guest runs the arm64 executable on the arm64 kernel', async () => {
    assert.ok(vm);
    assert.match(vm.console(), new RegExp(`GLVM: running: .*exec ${sea.exe} agent `));
    const os = await conn.call<Record<string, string>>('guest-get-osinfo');
    assert.equal(os.machine, 'aarch64');
    assert.match(os['kernel-release'] ?? '', /-arm64$/);
    assert.equal(await conn.call('guest-get-host-name').then((r) => (r as { 'host-name': string })['host-name']), 'gl-arm64');
    const info = await conn.call<{ version: string }>('guest-info');
    assert.ok(info.version);
  });

  test("guest-sync-delimited on the real port: 0xFF-led reply with the host's id", async () => {
    const id = await conn.syncDelimited(30_000);
    assert.ok(Number.isInteger(id));
  });

  test("guest-network-get-interfaces reports the VM's address (10.0.2.15/24 on eth0)", async () => {
    const ifaces = await conn.call<Iface[]>('guest-network-get-interfaces', undefined, 30_000);
    const eth0 = ifaces.find((i) => i.name === 'eth0');
    assert.ok(eth0, `no eth0 in ${JSON.stringify(ifaces)}`);
    assert.deepEqual(
      eth0['ip-addresses']?.filter((a) => a['ip-address-type'] === 'ipv4'),
      [{ 'ip-address': '10.0.2.15', 'ip-address-type': 'ipv4', prefix: 24 }],
    );
  });

  test('guest-fsfreeze-freeze/thaw and guest-fstrim on the ext4 disk go through the arm64 addon', async () => {
    assert.equal(await conn.call('guest-fsfreeze-status'), 'thawed');
    assert.equal(await conn.call('guest-fsfreeze-freeze', undefined, 60_000), 1);
    assert.equal(await conn.call('guest-fsfreeze-status'), 'frozen');
    assert.equal(await conn.call('guest-fsfreeze-thaw', undefined, 60_000), 1);
    assert.equal(await conn.call('guest-fsfreeze-status'), 'thawed');
    const trim = await conn.call<{ paths: { path: string; trimmed?: number; error?: string }[] }>('guest-fstrim', undefined, 60_000);
    const data = trim.paths.find((p) => p.path === '/mnt/data');
    assert.ok(data, `no /mnt/data in ${JSON.stringify(trim)}`);
    assert.equal(data.error, undefined, `fstrim /mnt/data: ${data.error}`);
    assert.ok((data.trimmed ?? 0) > 0, 'nothing trimmed on a fresh 64 MiB ext4');
  });

  test('guest-shutdown powerdown with --power syscall: no reply, QMP SHUTDOWN, QEMU exits', async () => {
    assert.ok(vm);
    const qmp = await QmpClient.connect(vm.qmpSocket);
    try {
      const t0 = performance.now();
      conn.lines.write('{"execute":"guest-shutdown","arguments":{"mode":"powerdown"}}\n');
      await qmp.waitEvent('SHUTDOWN', 120_000);
      console.log(`# aarch64 VM: guest-shutdown to QMP SHUTDOWN: ${(performance.now() - t0).toFixed(0)} ms`);
    } finally {
      await qmp.close();
    }
    assert.equal(conn.lines.pending(), 0, 'the agent replied to a successful guest-shutdown');
    const deadline = Date.now() + 30_000;
    while (vm.alive() && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    assert.ok(!vm.alive(), 'QEMU did not exit after SHUTDOWN');
  });
});
