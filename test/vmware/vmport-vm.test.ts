// The backdoor GETVERSION call for real, against QEMU's vmport device in a TCG VM (the project's VM
// harness): the only x86 backdoor in reach here. Skipped when QEMU, a kernel or the addon is missing.
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { bootVm, REPO_ROOT, vmUnavailableReason } from '../e2e/vm/vm.js';

const ADDON = path.join(REPO_ROOT, 'build/Release/guestlink.node');
const skip = vmUnavailableReason() ?? (existsSync(ADDON) ? undefined : `addon not built: ${ADDON}`);

test('QEMU vmport answers GETVERSION through the addon (CPUID check overridden); no guest RPC there', {
  skip: skip ?? false,
  timeout: 240_000,
}, async (t) => {
  const node = process.execPath;
  const vm = await bootVm({
    guestCommand: `exec ${node} ${path.join(REPO_ROOT, 'dist/test/vmware/vmport-guest.js')}`,
    noWait: true,
    extraQemuArgs: ['-machine', 'vmport=on'],
    memoryMb: 512,
    cpus: 1,
  });
  t.after(() => vm.stop());
  const deadline = Date.now() + 200_000;
  let text = '';
  while (Date.now() < deadline) {
    text = vm.console();
    if (/GLVM: guest command exited/.test(text) || !vm.alive()) break;
    await new Promise((r) => setTimeout(r, 500));
  }
  if (!/GLVM: guest command exited/.test(text) && !vm.alive())
    assert.fail(`QEMU stopped before the guest finished: ${vm.qemuStderr().trim()}\n${text.split('\n').slice(-20).join('\n')}`);
  const lines = Object.fromEntries(
    [...text.matchAll(/^VMPORT (\w+) (.*)$/gm)].map((m) => [m[1], JSON.parse((m[2] ?? '').trim())] as [string, unknown]),
  );
  t.diagnostic(`guest: ${JSON.stringify(lines)}`);
  assert.notEqual(lines.vendor, 'VMwareVMware');
  assert.equal(lines.refused, 'ENODEV', 'the addon refuses without the override');
  const gv = lines.getversion as { version: number; magicEchoed: boolean; product: number } | undefined;
  assert.ok(gv, `no GETVERSION line; console tail:\n${text.split('\n').slice(-20).join('\n')}`);
  assert.equal(gv.magicEchoed, true, 'vmport echoes the magic in EBX');
  t.diagnostic(`vmport GETVERSION: version=${gv.version} product=${gv.product}`);
  assert.equal(lines.message, 'BACKDOOR_STATUS', 'vmport has no MESSAGE command: opening a channel fails cleanly');
});
