// The agent on an emulated 16550 serial port (guest /dev/ttyS1) in a QEMU VM: raw mode, no echo, no CR/LF
// mangling. Skipped when QEMU or a kernel is missing.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { LineClient } from './vm/line-client.js';
import { QgaConnection } from './vm/qga.js';
import { bootVm, type Vm, vmUnavailableReason } from './vm/vm.js';

const skip = vmUnavailableReason();
if (skip) console.log(`# ${skip}`);

describe('agent on an isa-serial port in a VM', { skip, timeout: 180_000 }, () => {
  let vm: Vm;

  before(async () => {
    vm = await bootVm({ isaSerial: true, waitOn: 'isa', agentArgs: ['-m', 'isa-serial', '-p', '/dev/ttyS1'] });
    console.log(`# boot to agent ready (isa-serial): ${(vm.bootToReadyMs / 1000).toFixed(1)} s`);
    await vm.firstConnection?.close();
  });

  after(async () => {
    await vm?.stop();
  });

  test('requests are not echoed and replies are byte-exact lines (raw tty)', async () => {
    const c = await LineClient.connect(vm.isaSocket as string);
    try {
      c.write(Buffer.from('\xff{"execute":"guest-sync-delimited","arguments":{"id":42}}\n', 'latin1'));
      // Skip the parse-error reply a 0xFF may draw; an echo would show up as our own request text.
      let line = await c.readLine(10000);
      while (line.includes('"error"')) line = await c.readLine(10000);
      assert.equal(line[0], 0xff);
      assert.equal(line.toString('latin1', 1), '{"return": 42}');
      c.write('{"execute":"guest-ping"}\n');
      assert.equal((await c.readLine(10000)).toString(), '{"return": {}}');
      assert.equal(c.pending(), 0);
    } finally {
      await c.close();
    }
  });

  test('guest-info answers over the tty, and again after the host reconnects', async () => {
    for (let i = 0; i < 3; i++) {
      const c = await QgaConnection.connect(vm.isaSocket as string);
      try {
        await c.syncDelimited(10000);
        const info = await c.call<{ supported_commands: { name: string }[] }>('guest-info');
        assert.ok(info.supported_commands.some((x) => x.name === 'guest-network-get-interfaces'));
      } finally {
        await c.close();
      }
    }
  });
});
