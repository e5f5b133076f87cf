// guest-shutdown really acting in a QEMU VM (TCG): the agent runs with --power syscall (reboot(2) through
// the native addon, loaded from this checkout over 9p), with --power openrc (the init's poweroff/reboot/
// halt, here shims from build-initramfs.sh) and with --power shutdown-command (shutdown(8), a shim too),
// and QMP shows what the machine did. On success the agent sends no reply: the host sees EOF or the QMP
// event first. A back end that cannot act (logind without systemd) gives a GenericError and the VM stays
// up. Skipped when QEMU or a kernel is missing (--power syscall also when the addon is not built).
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { after, describe, test } from 'node:test';
import { type QgaConnection, waitForAgent } from './vm/qga.js';
import { QmpClient } from './vm/qmp.js';
import { bootVm, REPO_ROOT, type Vm, vmUnavailableReason } from './vm/vm.js';

const ADDON = path.join(REPO_ROOT, 'build/Release/guestlink.node');
const skip = vmUnavailableReason();
if (skip) console.log(`# ${skip}`);
/** Only --power syscall needs the addon; the other back ends run the shims of build-initramfs.sh. */
const skipFor = (power: string) =>
  skip ?? (power !== 'syscall' || existsSync(ADDON) ? undefined : `--power syscall skipped: ${ADDON} not built (npm run build:native)`);

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Sends guest-shutdown on an already synced connection and waits for a QMP event; returns what the host saw meanwhile. */
async function shutdownUntilEvent(vm: Vm, conn: QgaConnection, mode: string, event: string): Promise<{ ms: number; linesBefore: number }> {
  const qmp = await QmpClient.connect(vm.qmpSocket);
  try {
    const t0 = performance.now();
    conn.lines.write(`${JSON.stringify({ execute: 'guest-shutdown', arguments: { mode } })}\n`);
    await qmp.waitEvent(event, 60_000);
    const ms = performance.now() - t0;
    return { ms, linesBefore: conn.lines.pending() };
  } finally {
    await qmp.close();
  }
}

async function waitDead(vm: Vm, ms: number): Promise<boolean> {
  const deadline = Date.now() + ms;
  while (vm.alive() && Date.now() < deadline) await sleep(50);
  return !vm.alive();
}

/** What the console shows when the back end went through the shims of build-initramfs.sh (syscall goes straight to reboot(2)). */
const SHIM: Record<string, (mode: string) => RegExp | undefined> = {
  syscall: () => undefined,
  openrc: (mode) => new RegExp(`GLVM: ${mode === 'powerdown' ? 'poweroff' : mode} shim`),
  'shutdown-command': (mode) => new RegExp(`GLVM: shutdown shim: ${mode === 'powerdown' ? 'poweroff' : mode}`),
};

for (const power of ['syscall', 'openrc', 'shutdown-command'] as const) {
  describe(`guest-shutdown with --power ${power} in a VM`, { skip: skipFor(power), timeout: 240_000, concurrency: false }, () => {
    const vms: Vm[] = [];
    after(async () => {
      for (const vm of vms) await vm.stop();
    });

    test('powerdown: no reply, QMP SHUTDOWN, QEMU exits', async () => {
      const vm = await bootVm({ agentArgs: ['--power', power] });
      vms.push(vm);
      const conn = vm.firstConnection ?? (await waitForAgent(vm.qgaSocket, 30_000, vm.alive));
      const { ms, linesBefore } = await shutdownUntilEvent(vm, conn, 'powerdown', 'SHUTDOWN');
      assert.equal(linesBefore, 0, 'the agent replied to a successful guest-shutdown');
      assert.ok(await waitDead(vm, 10_000), 'QEMU did not exit after SHUTDOWN');
      const shim = SHIM[power]?.('powerdown');
      if (shim) assert.match(vm.console(), shim);
      await assert.rejects(conn.lines.readLine(2000), /closed/);
      await conn.close();
      console.log(`# ${power} powerdown: request to QMP SHUTDOWN ${ms.toFixed(0)} ms`);
    });

    test('reboot: no reply, QMP RESET, the agent answers again; then halt stops the guest', async () => {
      const vm = await bootVm({ agentArgs: ['--power', power], allowReboot: true });
      vms.push(vm);
      let conn = vm.firstConnection ?? (await waitForAgent(vm.qgaSocket, 30_000, vm.alive));
      const { ms, linesBefore } = await shutdownUntilEvent(vm, conn, 'reboot', 'RESET');
      assert.equal(linesBefore, 0, 'the agent replied to a successful guest-shutdown');
      const shim = SHIM[power]?.('reboot');
      if (shim) assert.match(vm.console(), shim);
      await conn.close();
      const t0 = performance.now();
      conn = await waitForAgent(vm.qgaSocket, 120_000, vm.alive);
      const backMs = performance.now() - t0;
      assert.deepEqual(await conn.call('guest-ping'), {});
      assert.ok(vm.alive());
      assert.ok((vm.console().match(/GLVM: root mounted/g) ?? []).length >= 2, 'the console shows no second boot');
      console.log(`# ${power} reboot: request to QMP RESET ${ms.toFixed(0)} ms, RESET to agent answering ${backMs.toFixed(0)} ms`);

      // Halt: reboot(2) LINUX_REBOOT_CMD_HALT. The kernel prints "System halted" and stops; QEMU keeps running.
      conn.lines.write('{"execute":"guest-shutdown","arguments":{"mode":"halt"}}\n');
      const deadline = Date.now() + 30_000;
      while (!/System halted/.test(vm.console()) && Date.now() < deadline) await sleep(100);
      assert.match(vm.console(), /System halted/);
      const haltShim = SHIM[power]?.('halt');
      if (haltShim) assert.match(vm.console(), haltShim);
      assert.equal(conn.lines.pending(), 0, 'the agent replied to a successful guest-shutdown');
      await assert.rejects(conn.syncDelimited(3000), 'the agent answered after halt');
      await conn.close();
      assert.ok(vm.alive(), 'QEMU exited on halt (expected: it keeps running with the guest stopped)');
      const qmp = await QmpClient.connect(vm.qmpSocket);
      const status = (await qmp.execute('query-status')) as { status: string };
      await qmp.close();
      console.log(`# ${power} halt: console "System halted", agent silent, QEMU still running (status ${status.status})`);
    });
  });
}

describe('a power back end that cannot act in the VM', { skip, timeout: 120_000 }, () => {
  let vm: Vm | undefined;
  after(async () => {
    await vm?.stop();
  });

  test('--power logind without systemd: guest-shutdown gets a GenericError and the VM stays up', async () => {
    vm = await bootVm({ agentArgs: ['--power', 'logind'] });
    const conn = vm.firstConnection ?? (await waitForAgent(vm.qgaSocket, 30_000, vm.alive));
    const r = await conn.execute('guest-shutdown', { mode: 'powerdown' }, 30_000);
    assert.equal(r.error?.class, 'GenericError');
    const desc = r.error?.desc ?? '';
    assert.match(desc, /logind|busctl/);
    console.log(`# logind error: ${desc}`);
    await sleep(1000);
    assert.ok(vm.alive());
    assert.deepEqual(await conn.call('guest-ping'), {});
    await conn.close();
  });
});
