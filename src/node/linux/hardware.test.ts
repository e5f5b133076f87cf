import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, describe, it } from 'node:test';
import type { QgaError } from '../../protocol/qga/errors.js';
import { fixtureRoot } from './fixture.test-util.js';
import { LinuxHardware } from './hardware.js';

describe('LinuxHardware on a fixture tree', () => {
  const fx = fixtureRoot('gl-hw-');
  after(() => fx.cleanup());
  const hw = new LinuxHardware(fx.root);
  const cpu = (n: number) => `${fx.root}/sys/devices/system/cpu/cpu${n}/`;

  it('setVcpus writes online files that differ and counts processed entries', async () => {
    fx.dir('sys/devices/system/cpu/cpu0');
    fx.file('sys/devices/system/cpu/cpu1/online', '1\n');
    fx.file('sys/devices/system/cpu/cpu2/online', '0\n');
    const n = await hw.setVcpus([
      { logicalId: 0, online: true },
      { logicalId: 1, online: false },
      { logicalId: 2, online: true },
    ]);
    assert.equal(n, 3);
    assert.equal(readFileSync(`${cpu(1)}online`, 'utf8')[0], '0');
    assert.equal(readFileSync(`${cpu(2)}online`, 'utf8')[0], '1');
  });

  it('stops at the first failure: an error only when nothing was processed', async () => {
    await assert.rejects(
      hw.setVcpus([{ logicalId: 0, online: false }]),
      (e: QgaError) => e.desc === "logical processor #0 can't be offlined",
    );
    await assert.rejects(
      hw.setVcpus([{ logicalId: 7, online: true }]),
      (e: QgaError) => e.desc === `open("${cpu(7)}"): No such file or directory`,
    );
    assert.equal(
      await hw.setVcpus([
        { logicalId: 1, online: true },
        { logicalId: 7, online: true },
        { logicalId: 2, online: false },
      ]),
      1,
    );
    fx.dir('sys/devices/system/cpu/cpu4/online');
    await assert.rejects(
      hw.setVcpus([{ logicalId: 4, online: true }]),
      (e: QgaError) => e.desc === `open("${cpu(4)}/online"): Is a directory`,
    );
  });

  it('setMemoryBlocks answers per block with qemu-ga response codes', async () => {
    const none = new LinuxHardware(`${fx.root}/nothing`);
    assert.deepEqual(await none.setMemoryBlocks([{ physIndex: 0, online: true }]), [
      { physIndex: 0, response: 'operation-not-supported', errorCode: 2 },
    ]);
    const mem = (rel: string) => `${fx.root}/sys/devices/system/memory/${rel}`;
    fx.file('sys/devices/system/memory/memory0/state', 'online\n');
    fx.file('sys/devices/system/memory/memory1/state', 'offline\n');
    fx.dir('sys/devices/system/memory/memory2');
    fx.dir('sys/devices/system/memory/memory3/state');
    fx.file('sys/devices/system/memory/memory4/state', 'online\n');
    const r = await hw.setMemoryBlocks([
      { physIndex: 0, online: false },
      { physIndex: 1, online: true },
      { physIndex: 2, online: false },
      { physIndex: 2, online: true },
      { physIndex: 3, online: true },
      { physIndex: 4, online: true },
      { physIndex: 9, online: true },
    ]);
    assert.deepEqual(r, [
      { physIndex: 0, response: 'success' },
      { physIndex: 1, response: 'success' },
      { physIndex: 2, response: 'operation-not-supported', errorCode: 2 },
      { physIndex: 2, response: 'success', errorCode: 2 },
      { physIndex: 3, response: 'operation-failed', errorCode: 21 },
      { physIndex: 4, response: 'success' },
      { physIndex: 9, response: 'not-found', errorCode: 2 },
    ]);
    assert.equal(readFileSync(mem('memory0/state'), 'utf8').slice(0, 7), 'offline');
    assert.equal(readFileSync(mem('memory1/state'), 'utf8').slice(0, 6), 'online');
  });
});
