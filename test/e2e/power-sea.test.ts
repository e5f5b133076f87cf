// The single executable (scripts/build-sea.mjs), not the checkout, as the agent inside a QEMU VM
// (TCG): guest-shutdown powerdown with --power syscall goes through reboot(2) of the native addon
// that ships beside the executable, and QMP shows the machine powering off. The guest reads the
// executable from the host over 9p, as it reads the rest of the host's tree; no Node of the host is
// involved. Skipped when QEMU or a kernel is missing.
import assert from 'node:assert/strict';
import { after, describe, test } from 'node:test';
import { buildSea } from '../package/build.js';
import { waitForAgent } from './vm/qga.js';
import { QmpClient } from './vm/qmp.js';
import { bootVm, type Vm, vmUnavailableReason } from './vm/vm.js';

const skip = vmUnavailableReason();
if (skip) console.log(`# ${skip}`);

describe('the single executable in a VM', { skip, timeout: 300_000 }, () => {
  let vm: Vm | undefined;
  after(async () => {
    await vm?.stop();
  });

  test('guest-shutdown powerdown with --power syscall: no reply, QMP SHUTDOWN, QEMU exits', async () => {
    const sea = await buildSea();
    assert.ok(sea.addon, 'the executable was built without its addon: --power syscall needs it');
    vm = await bootVm({ executable: sea.exe, agentArgs: ['--power', 'syscall'] });
    assert.match(vm.console(), new RegExp(`GLVM: running: .*exec ${sea.exe} agent `));
    const conn = vm.firstConnection ?? (await waitForAgent(vm.qgaSocket, 30_000, vm.alive));
    const info = (await conn.call('guest-info')) as { version: string };
    assert.ok(info.version);
    console.log(`# boot to agent answering: ${vm.bootToReadyMs.toFixed(0)} ms`);
    const qmp = await QmpClient.connect(vm.qmpSocket);
    try {
      const t0 = performance.now();
      conn.lines.write('{"execute":"guest-shutdown","arguments":{"mode":"powerdown"}}\n');
      await qmp.waitEvent('SHUTDOWN', 60_000);
      console.log(`# request to QMP SHUTDOWN: ${(performance.now() - t0).toFixed(0)} ms`);
    } finally {
      await qmp.close();
    }
    assert.equal(conn.lines.pending(), 0, 'the agent replied to a successful guest-shutdown');
    const deadline = Date.now() + 10_000;
    while (vm.alive() && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    assert.ok(!vm.alive(), 'QEMU did not exit after SHUTDOWN');
    await conn.close();
  });
});
