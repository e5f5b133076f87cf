import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { after, describe, it } from 'node:test';
import type { QgaError } from '../../protocol/qga/errors.js';
import { fixtureRoot } from './fixture.test-util.js';
import { LinuxSystemInfo } from './system.js';
import { USER_PROCESS, utmpRecord } from './utmp.js';

const uname = () => ({ release: '6.1.0-test', version: '#1 SMP test', machine: 'x86_64' });

describe('LinuxSystemInfo on a fixture tree', () => {
  const fx = fixtureRoot('gl-sys-');
  after(() => fx.cleanup());
  const sys = new LinuxSystemInfo(fx.root, { uname, hostname: () => 'node-1', zoneId: 'Nowhere/None' });

  it('osInfo: uname plus /etc/os-release, falling back to /usr/lib/os-release when /etc is unusable', async () => {
    fx.file('usr/lib/os-release', 'ID=talos\nNAME="Talos"\nVERSION_ID=v1.9.0\n');
    assert.deepEqual(await sys.osInfo(), {
      kernelRelease: '6.1.0-test',
      kernelVersion: '#1 SMP test',
      machine: 'x86_64',
      id: 'talos',
      name: 'Talos',
      versionId: 'v1.9.0',
    });
    fx.file('etc/os-release', 'ID=alpine\nPRETTY_NAME="Alpine Linux v3.20"\n');
    assert.equal((await sys.osInfo()).id, 'alpine');
    assert.equal((await sys.osInfo()).prettyName, 'Alpine Linux v3.20');
    fx.file('etc/os-release', 'broken line\n');
    assert.equal((await sys.osInfo()).id, 'talos');
  });

  it('osInfo: kernel fields only when no os-release exists', async () => {
    const bare = new LinuxSystemInfo(fx.dir('empty-root'), { uname });
    assert.deepEqual(await bare.osInfo(), { kernelRelease: '6.1.0-test', kernelVersion: '#1 SMP test', machine: 'x86_64' });
  });

  it('hostname and timezone', async () => {
    assert.equal(await sys.hostname(), 'node-1');
    assert.deepEqual(await sys.timezone(), { zone: 'UTC', offsetSeconds: 0 });
  });

  it('users from var/run/utmp; none when it is missing', async () => {
    assert.deepEqual(await sys.users(), []);
    fx.file(
      'var/run/utmp',
      Buffer.concat([utmpRecord(USER_PROCESS, 'root', 1700000000, 5), utmpRecord(USER_PROCESS, 'root', 1600000000, 0)]),
    );
    assert.deepEqual(await sys.users(), [{ user: 'root', loginTime: 1600000000 }]);
  });

  it('vcpus: cpuN entries only; no online file means online and not offlinable', async () => {
    fx.dir('sys/devices/system/cpu/cpu0');
    fx.file('sys/devices/system/cpu/cpu1/online', '1\n');
    fx.file('sys/devices/system/cpu/cpu2/online', '0\n');
    fx.dir('sys/devices/system/cpu/cpufreq');
    fx.dir('sys/devices/system/cpu/cpuidle');
    fx.file('sys/devices/system/cpu/online', '0-1\n');
    const cpus = (await sys.vcpus()).sort((a, b) => a.logicalId - b.logicalId);
    assert.deepEqual(cpus, [
      { logicalId: 0, online: true, canOffline: false },
      { logicalId: 1, online: true, canOffline: true },
      { logicalId: 2, online: false, canOffline: true },
    ]);
  });

  it('vcpus: qemu-ga error texts', async () => {
    fx.file('sys/devices/system/cpu/cpu3/online', '');
    await assert.rejects(
      sys.vcpus(),
      (e: QgaError) => e.desc === `pread("${fx.root}/sys/devices/system/cpu/cpu3//online"): unexpected EOF`,
    );
    rmSync(`${fx.root}/sys/devices/system/cpu/cpu3`, { recursive: true });
    const none = new LinuxSystemInfo(`${fx.root}/nothing`);
    await assert.rejects(
      none.vcpus(),
      (e: QgaError) => e.desc === `failed to list entries: ${fx.root}/nothing/sys/devices/system/cpu: No such file or directory`,
    );
  });

  it('memory blocks: memoryN directories, state and removable; block size in hex', async () => {
    const none = new LinuxSystemInfo(`${fx.root}/nothing`);
    assert.deepEqual(await none.memoryBlocks(), []);
    await assert.rejects(
      none.memoryBlockSize(),
      (e: QgaError) => e.desc === `open("${fx.root}/nothing/sys/devices/system/memory/"): No such file or directory`,
    );
    fx.file('sys/devices/system/memory/block_size_bytes', '8000000\n');
    await assert.rejects(sys.memoryBlocks(), (e: QgaError) => e.desc === 'guest reported zero memory blocks!');
    fx.file('sys/devices/system/memory/memory0/state', 'online\n');
    fx.file('sys/devices/system/memory/memory0/removable', '0\n');
    fx.file('sys/devices/system/memory/memory12/state', 'offline\n');
    fx.file('sys/devices/system/memory/memory12/removable', '1\n');
    fx.dir('sys/devices/system/memory/memory13');
    fx.file('sys/devices/system/memory/memory99', 'not a directory\n');
    const blocks = (await sys.memoryBlocks()).sort((a, b) => a.physIndex - b.physIndex);
    assert.deepEqual(blocks, [
      { physIndex: 0, online: true, canOffline: false },
      { physIndex: 12, online: false, canOffline: true },
      { physIndex: 13, online: true, canOffline: false },
    ]);
    assert.equal(await sys.memoryBlockSize(), 134217728);
  });

  it('load, cpu and disk counters from proc', async () => {
    fx.file('proc/loadavg', '1.50 0.25 0.00 2/300 1234\n');
    fx.file('proc/stat', 'cpu  10 0 10 10\ncpu0 1 2 3 4 5 6 7 8 9 10\nintr 1\n');
    fx.file('proc/diskstats', '   8       0 sda 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17\n');
    assert.deepEqual(await sys.loadAverage(), { load1m: 1.5, load5m: 0.25, load15m: 0 });
    assert.deepEqual(await sys.cpuStats(), [
      { cpu: 0, user: 10, nice: 20, system: 30, idle: 40, iowait: 50, irq: 60, softirq: 70, steal: 80, guest: 90, guestnice: 100 },
    ]);
    const [d] = await sys.diskStats();
    assert.equal(d?.name, 'sda');
    assert.equal(d?.stats.flushTicks, 17);
    await assert.rejects(
      new LinuxSystemInfo(`${fx.root}/nothing`).cpuStats(),
      (e: QgaError) => e.desc === 'open("/proc/stat"): No such file or directory',
    );
  });
});

describe('LinuxSystemInfo on this machine', () => {
  const sys = new LinuxSystemInfo();
  // Speed belongs in bench/, not in a timed unit test (a loaded CI machine once took 54 ms here).
  it('answers every fact', async () => {
    for (const name of ['osInfo', 'hostname', 'timezone', 'users', 'vcpus', 'loadAverage', 'cpuStats', 'diskStats'] as const) {
      const v = await sys[name]();
      assert.ok(v !== undefined, name);
    }
  });
});
