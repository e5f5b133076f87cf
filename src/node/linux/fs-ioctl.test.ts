// FsIoctl's util-linux fallback (fake runs) and the errors LinuxStorage makes of it, worded like qemu-ga.
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { GuestlinkNative } from '../../native/addon.js';
import type { QgaError } from '../../protocol/qga/errors.js';
import { FsIoctl } from './fs-ioctl.js';
import type { CommandResult } from './run-command.js';
import { LinuxStorage } from './storage.js';

let root: string;
let mnt: string;
before(() => {
  root = mkdtempSync(path.join(os.tmpdir(), 'guestlink-ioctl-'));
  mnt = path.join(root, 'mnt');
  mkdirSync(mnt);
  mkdirSync(path.join(root, 'proc/self'), { recursive: true });
  // two "local" mounts, both really directories of this temp dir; only fakes act on them
  writeFileSync(
    path.join(root, 'proc/self/mountinfo'),
    `30 1 7:0 / ${mnt} rw - ext4 /dev/loop0 rw\n31 1 7:1 / ${root}/missing rw - ext4 /dev/loop1 rw\n`,
  );
});
after(() => rmSync(root, { recursive: true, force: true }));

type Script = (file: string, args: readonly string[]) => Partial<CommandResult>;
function tools(script: Script) {
  const calls: string[] = [];
  return {
    calls,
    deps: {
      which: (n: string) => `/usr/sbin/${n}`,
      run: async (f: string, a: readonly string[]): Promise<CommandResult> => {
        calls.push([f, ...a].join(' '));
        return { code: 0, signal: null, stdout: '', stderr: '', ...script(f, a) };
      },
    },
  };
}

describe('util-linux fallback', () => {
  test('freeze/thaw run fsfreeze -f/-u; EOPNOTSUPP is a skip, other errors read like qemu-ga', async () => {
    const t = tools((_f, a) => (a[0] === '-f' ? { code: 1, stderr: `fsfreeze: ${a[1]}: freeze failed: Operation not supported\n` } : {}));
    const s = new LinuxStorage(root, { ioctl: t.deps });
    assert.equal(await s.freeze(mnt), false);
    const t2 = tools(() => ({ code: 1, stderr: `fsfreeze: ${mnt}: freeze failed: Operation not permitted\n` }));
    await assert.rejects(
      new LinuxStorage(root, { ioctl: t2.deps }).freeze(mnt),
      (e: QgaError) => e.desc === `failed to freeze ${mnt}: Operation not permitted`,
    );
    assert.deepEqual(t2.calls, [`/usr/sbin/fsfreeze -f ${mnt}`]);
  });

  test('thaw repeats FITHAW until it fails (EINVAL: not frozen)', async () => {
    let frozenCount = 2;
    const t = tools(() => (frozenCount-- > 0 ? {} : { code: 1, stderr: `fsfreeze: ${mnt}: unfreeze failed: Invalid argument\n` }));
    const s = new LinuxStorage(root, { ioctl: t.deps });
    assert.equal(await s.thaw(mnt), true);
    assert.equal(t.calls.length, 3);
    assert.equal(await s.thaw(mnt), false);
  });

  test('trim: fstrim -v -m, bytes parsed, per-path errors, last mount first', async () => {
    const t = tools((_f, a) => ({ stdout: `${a[3]}: 1 MiB (1048576 bytes) trimmed\n` }));
    const res = await new LinuxStorage(root, { ioctl: t.deps }).trim(4096);
    assert.deepEqual(res, [
      { path: `${root}/missing`, trimmed: 1048576n, minimum: 4096n },
      { path: mnt, trimmed: 1048576n, minimum: 4096n },
    ]);
    assert.deepEqual(t.calls[0], `/usr/sbin/fstrim -v -m 4096 ${mnt}`);
    const t2 = tools(() => ({ code: 1, stderr: 'fstrim: x: the discard operation is not supported\n' }));
    assert.deepEqual(
      (await new LinuxStorage(root, { ioctl: t2.deps }).trim(0)).map((r) => r.error),
      ['trim not supported', 'trim not supported'],
    );
  });

  test('neither addon nor tools: a clear error', async () => {
    const io = new FsIoctl({ which: () => undefined });
    await assert.rejects(io.freeze(mnt), /native addon .* or util-linux fsfreeze/);
    await assert.rejects(new LinuxStorage(root, { ioctl: { which: () => undefined } }).freeze(mnt), (e: QgaError) =>
      e.desc.includes('util-linux fsfreeze'),
    );
  });
});

describe('native path (fake addon)', () => {
  test('open failure and ioctl errno become qemu-ga texts', async () => {
    const err = (code: string, message: string) => Object.assign(new Error(message), { code, syscall: 'FITRIM' });
    const native = {
      fsFreeze: () => {
        throw err('EBUSY', 'Device or resource busy');
      },
      fsThaw: () => {
        throw err('EINVAL', 'Invalid argument');
      },
      fsTrim: () => {
        throw err('EIO', 'Input/output error');
      },
    } as unknown as GuestlinkNative;
    const s = new LinuxStorage(root, { ioctl: { native } });
    assert.equal(await s.freeze(mnt), false, 'EBUSY (already frozen, bind mount) is not counted, not an error');
    assert.equal(await s.thaw(mnt), false);
    await assert.rejects(
      s.freeze(`${root}/missing`),
      (e: QgaError) => e.desc === `failed to open ${root}/missing: No such file or directory`,
    );
    assert.deepEqual(
      (await s.trim(0)).map((r) => r.error),
      ['failed to open: No such file or directory', 'failed to trim: Input/output error'],
    );
  });
});
