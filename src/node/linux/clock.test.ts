// LinuxClock with a fake addon and fake hwclock runs: this machine's clock is never set in a test.
import assert from 'node:assert/strict';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { QgaError } from '../../protocol/qga/errors.js';
import { fallbackNowNs, LinuxClock } from './clock.js';
import type { GuestlinkNative } from './native.js';
import { loadNative } from './native.js';
import type { CommandResult } from './run-command.js';

let dir: string;
let hwclock: string;
before(() => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'guestlink-clock-'));
  hwclock = path.join(dir, 'hwclock');
  writeFileSync(hwclock, '#!/bin/sh\nexit 0\n');
  chmodSync(hwclock, 0o755);
});
after(() => rmSync(dir, { recursive: true, force: true }));

function fakeNative(onSet: (sec: bigint | number, nsec: number) => void): GuestlinkNative {
  return {
    clockGetTime: () => 1_700_000_000_123_456_789n,
    clockSetTime: onSet,
  } as unknown as GuestlinkNative;
}

function recorder(result: Partial<CommandResult> = {}) {
  const calls: [string, readonly string[]][] = [];
  const run = async (f: string, a: readonly string[]): Promise<CommandResult> => {
    calls.push([f, a]);
    return { code: 0, signal: null, stdout: '', stderr: '', ...result };
  };
  return { calls, run };
}

describe('LinuxClock', () => {
  test('now(): the addon clock, ns as bigint', () => {
    assert.equal(new LinuxClock({ native: fakeNative(() => {}) }).now(), 1_700_000_000_123_456_789n);
  });

  test('now() without the addon: wall time within a few ms, µs resolution', () => {
    const before = BigInt(Date.now()) * 1_000_000n;
    const ns = new LinuxClock({ native: null }).now();
    const after = BigInt(Date.now()) * 1_000_000n;
    assert.equal(typeof ns, 'bigint');
    assert.ok(ns >= before - 1_000_000n && ns <= after + 1_000_000n, `${ns} not in [${before}, ${after}]`);
    assert.equal(fallbackNowNs() % 1000n, 0n);
  });

  test('now() with the real addon, when built, agrees with Date.now()', (t) => {
    const n = loadNative();
    if (!n) return t.skip('native addon not built (build/Release/guestlink.node)');
    // Bracketed by two readings of the same clock (Date.now() has ms resolution): no tolerance to tune.
    const before = BigInt(Date.now()) * 1_000_000n;
    const ns = new LinuxClock().now();
    const after = BigInt(Date.now() + 1) * 1_000_000n;
    assert.ok(ns >= before && ns < after, `${ns} not in [${before}, ${after})`);
  });

  test('set(ns): clock_settime with seconds and nanoseconds, then hwclock -w', async () => {
    const sets: [bigint | number, number][] = [];
    const r = recorder();
    const clock = new LinuxClock({ native: fakeNative((s, n) => sets.push([s, n])), hwclockPaths: [hwclock], run: r.run });
    await clock.set(1_800_000_000_987_654_321n);
    assert.deepEqual(sets, [[1_800_000_000n, 987_654_321]]);
    assert.deepEqual(r.calls, [[hwclock, ['-w']]]);
  });

  test('set(): hwclock -s only', async () => {
    const sets: unknown[] = [];
    const r = recorder();
    await new LinuxClock({ native: fakeNative((...a) => sets.push(a)), hwclockPaths: [hwclock], run: r.run }).set();
    assert.deepEqual(sets, []);
    assert.deepEqual(r.calls, [[hwclock, ['-s']]]);
  });

  test('errors read like qemu-ga', async () => {
    const failing = recorder({ code: 1 });
    const clock = new LinuxClock({ native: fakeNative(() => {}), hwclockPaths: [hwclock], run: failing.run });
    await assert.rejects(clock.set(), (e: QgaError) => e.desc === 'hwclock failed to set hardware clock to system time');
    const killed = recorder({ code: null, signal: 'SIGKILL' });
    await assert.rejects(
      new LinuxClock({ native: fakeNative(() => {}), hwclockPaths: [hwclock], run: killed.run }).set(1n),
      /child process has terminated abnormally/,
    );
    const eperm = Object.assign(new Error('Operation not permitted'), { code: 'EPERM' });
    const denied = new LinuxClock({
      native: fakeNative(() => {
        throw eperm;
      }),
      hwclockPaths: [hwclock],
      run: recorder().run,
    });
    await assert.rejects(
      denied.set(1_800_000_000_000_000_000n),
      (e: QgaError) => e.desc === 'Failed to set time to guest: Operation not permitted',
    );
    await assert.rejects(clock.set(-1n), (e: QgaError) => e.desc === 'Invalid time');
    await assert.rejects(clock.set(BigInt(Date.UTC(2070, 0, 1)) * 1_000_000n), (e: QgaError) => e.desc === 'Invalid time');
  });

  test('no hwclock: set() is unsupported; set(ns) still sets the system clock', async () => {
    const sets: unknown[] = [];
    const r = recorder();
    const clock = new LinuxClock({ native: fakeNative((...a) => sets.push(a)), hwclockPaths: [path.join(dir, 'none')], run: r.run });
    await assert.rejects(clock.set(), (e: QgaError) => e.desc === 'this feature or command is not currently supported');
    await clock.set(1_800_000_000_000_000_000n);
    assert.equal(sets.length, 1);
    assert.deepEqual(r.calls, []);
  });
});
