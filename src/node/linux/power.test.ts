import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { QgaError } from '../../protocol/qga/errors.js';
import { detectPowerKind, LinuxPower } from './power.js';
import type { CommandResult } from './run-command.js';

// Every test here records the command instead of running it: no power action ever happens.
function recorder(result: Partial<CommandResult> = {}) {
  const calls: [string, readonly string[]][] = [];
  const run = async (file: string, args: readonly string[]) => {
    calls.push([file, args]);
    return { code: 0, signal: null, stdout: '', stderr: '', ...result };
  };
  return { calls, run };
}
const which = (n: string) => `/usr/bin/${n}`;

describe('Linux power back ends', () => {
  it('asks logind over D-Bus (busctl) for PowerOff, Reboot and Halt, non-interactively', async () => {
    const rec = recorder();
    const p = new LinuxPower('logind', { run: rec.run, which });
    await p.shutdown('powerdown');
    await p.shutdown('reboot');
    await p.shutdown('halt');
    assert.deepEqual(
      rec.calls.map(([f, a]) => [f, a[4], a[5], a[6]]),
      [
        ['/usr/bin/busctl', 'PowerOff', 'b', 'false'],
        ['/usr/bin/busctl', 'Reboot', 'b', 'false'],
        ['/usr/bin/busctl', 'Halt', 'b', 'false'],
      ],
    );
    assert.deepEqual(rec.calls[0]?.[1].slice(0, 4), [
      'call',
      'org.freedesktop.login1',
      '/org/freedesktop/login1',
      'org.freedesktop.login1.Manager',
    ]);
  });

  it('reports a refused action as a GenericError with the reason', async () => {
    const rec = recorder({ code: 1, stderr: 'Call failed: Operation inhibited\n' });
    const p = new LinuxPower('logind', { run: rec.run, which });
    await assert.rejects(
      p.shutdown('powerdown'),
      (e: QgaError) => e instanceof QgaError && e.desc === 'logind PowerOff failed: Call failed: Operation inhibited',
    );
  });

  it("uses the init commands for OpenRC/busybox and qemu-ga's shutdown(8) line for shutdown-command", async () => {
    const rec = recorder();
    await new LinuxPower('openrc', { run: rec.run, which }).shutdown('reboot');
    await new LinuxPower('shutdown-command', { run: rec.run, which }).shutdown('halt');
    assert.deepEqual(rec.calls, [
      ['/usr/bin/reboot', []],
      ['/usr/bin/shutdown', ['-h', '-H', '+0', 'hypervisor initiated shutdown']],
    ]);
    const bad = recorder({ code: 1 });
    await assert.rejects(
      new LinuxPower('shutdown-command', { run: bad.run, which }).shutdown('powerdown'),
      /child process has failed to shutdown/,
    );
  });

  it('says which back end to choose when a tool is missing, and refuses suspend', async () => {
    const p = new LinuxPower('openrc', { run: recorder().run, which: () => undefined });
    await assert.rejects(p.shutdown('powerdown'), /poweroff was not found.*--power/);
    await assert.rejects(p.suspend('ram'), /not supported/);
    await assert.rejects(new LinuxPower('syscall', {}).shutdown('halt'), /native addon/);
  });

  describe('detection', () => {
    const root = mkdtempSync(path.join(os.tmpdir(), 'gl-power-'));
    after(() => rmSync(root, { recursive: true, force: true }));
    const tools = (names: string[]) => (n: string) => (names.includes(n) ? `/sbin/${n}` : undefined);

    it('prefers logind when systemd runs, then OpenRC, then shutdown(8), then the syscall', () => {
      assert.equal(detectPowerKind(root, tools([])), 'syscall');
      assert.equal(detectPowerKind(root, tools(['shutdown', 'poweroff'])), 'shutdown-command');
      mkdirSync(path.join(root, 'run/openrc'), { recursive: true });
      assert.equal(detectPowerKind(root, tools(['poweroff'])), 'openrc');
      mkdirSync(path.join(root, 'run/systemd/system'), { recursive: true });
      assert.equal(detectPowerKind(root, tools(['busctl', 'poweroff'])), 'logind');
      rmSync(path.join(root, 'run'), { recursive: true });
      mkdirSync(path.join(root, 'etc'), { recursive: true });
      writeFileSync(path.join(root, 'etc/inittab'), '::shutdown:/sbin/openrc shutdown\n');
      assert.equal(detectPowerKind(root, tools(['poweroff'])), 'openrc');
    });
  });
});
