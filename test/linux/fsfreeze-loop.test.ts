// Real FIFREEZE / FITHAW / FITRIM on an ext4 image this test creates and loop-mounts in its own temp
// dir, through LinuxStorage (native addon and util-linux paths) and through the freeze commands with
// the watchdog. LinuxStorage gets a private root whose /proc/self/mountinfo lists ONLY that mount, so
// nothing else on this machine is ever frozen or trimmed. Skipped (with the reason) where loop devices
// or mount(2) are not available.
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { closeSync, ftruncateSync, mkdirSync, mkdtempSync, openSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { Logger } from 'pino';
import type { CommandContext } from '../../src/commands/context.js';
import { createFreezeHandlers, FreezeController } from '../../src/commands/freeze.js';
import { loadNative } from '../../src/native/addon.js';
import type { NodeBackend } from '../../src/node/interfaces.js';
import { runFsfreezeHook } from '../../src/node/linux/freeze-hook.js';
import { LinuxStorage } from '../../src/node/linux/storage.js';
import { MemoryAgentState } from '../doubles/memory-state.js';

let dir = '';
let mnt = '';
let root = '';
let skipReason: string | false = false;

function run(file: string, args: string[]) {
  return spawnSync(file, args, { encoding: 'utf8', timeout: 30_000 });
}

before(() => {
  if (process.getuid?.() !== 0) {
    skipReason = 'needs root for mount(2) and FIFREEZE';
    return;
  }
  dir = mkdtempSync(path.join(os.tmpdir(), 'guestlink-loopfs-'));
  const img = path.join(dir, 'ext4.img');
  const fd = openSync(img, 'w');
  ftruncateSync(fd, 64 * 1024 * 1024);
  closeSync(fd);
  const mkfs = run('mkfs.ext4', ['-q', '-F', img]);
  if (mkfs.status !== 0) {
    skipReason = `mkfs.ext4 failed or is missing: ${mkfs.stderr || mkfs.error}`;
    return;
  }
  mnt = path.join(dir, 'mnt');
  mkdirSync(mnt);
  const m = run('mount', ['-o', 'loop', img, mnt]);
  if (m.status !== 0) {
    mnt = '';
    skipReason = `loop mount is not possible in this sandbox: ${(m.stderr || String(m.error)).trim()}`;
    return;
  }
  // A private root: our mount's mountinfo line only; /sys and /run are the real ones (read-only use).
  root = path.join(dir, 'root');
  mkdirSync(path.join(root, 'proc/self'), { recursive: true });
  const line = readFileSync('/proc/self/mountinfo', 'utf8')
    .split('\n')
    .find((l) => l.split(' ')[4] === mnt);
  assert.ok(line, 'the loop mount shows in mountinfo');
  writeFileSync(path.join(root, 'proc/self/mountinfo'), `${line}\n`);
  symlinkSync('/sys', path.join(root, 'sys'));
  symlinkSync('/run', path.join(root, 'run'));
});

after(() => {
  if (mnt) {
    // never leave it frozen: thaw until EINVAL, then unmount (the loop device is auto-cleared)
    for (let i = 0; i < 8 && run('fsfreeze', ['-u', mnt]).status === 0; i++);
    run('umount', [mnt]);
  }
  if (dir) rmSync(dir, { recursive: true, force: true });
});

const skip = () => skipReason;

function ctxFor(storage: LinuxStorage, timeout = 0) {
  const warnings: unknown[] = [];
  const state = new MemoryAgentState();
  const log = { info: () => {}, debug: () => {}, error: () => {}, warn: (...a: unknown[]) => warnings.push(a) } as unknown as Logger;
  const ctx = {
    node: { storage } as unknown as NodeBackend,
    state,
    settings: { allowExec: [], allowFileRead: [], allowFileWrite: [], fsfreezeTimeout: timeout },
    log,
  } as unknown as CommandContext;
  return { ctx, warnings };
}

/**
 * Starts a child that writes a file on the mount. A writer on a frozen filesystem sleeps
 * uninterruptibly until the thaw (signals do not end it), so this never waits synchronously:
 * `blocked` says whether it was still writing after 500 ms; `done` settles once it has exited.
 */
/**
 * Starts a process that writes a file on the test mount and tells whether that write blocks: the kernel is
 * asked (the writer asleep in uninterruptible state in the freeze's write barrier, /proc/PID/stat and wchan)
 * rather than a pause guessed long enough. `done` resolves when the writer has exited.
 */
async function probeWrite(): Promise<{ blocked: boolean; done: Promise<void> }> {
  const child = spawn(process.execPath, ['-e', `require('fs').writeFileSync(${JSON.stringify(path.join(mnt, 'probe'))}, 'x')`], {
    stdio: 'ignore',
  });
  let exited = false;
  const done = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  void done.then(() => (exited = true));
  const waitingForThaw = () => {
    try {
      const stat = readFileSync(`/proc/${child.pid}/stat`, 'utf8');
      const wchan = readFileSync(`/proc/${child.pid}/wchan`, 'utf8');
      return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) === 'D' && /rwsem|sb_start|freeze/.test(wchan);
    } catch {
      return false; // gone already
    }
  };
  for (;;) {
    if (exited) return { blocked: false, done };
    if (waitingForThaw()) return { blocked: true, done };
    await new Promise((r) => setTimeout(r, 10));
  }
}

describe('real freeze/thaw/trim on a loop-mounted ext4 of our own', { timeout: 20_000 }, () => {
  test('fsinfo and freezableMounts see only the test mount', async (t) => {
    if (skip()) return t.skip(String(skip()));
    const s = new LinuxStorage(root);
    assert.deepEqual(await s.freezableMounts(), [mnt]);
    const [fs] = await s.filesystems();
    assert.equal(fs?.mountpoint, mnt);
    assert.equal(fs?.type, 'ext4');
    assert.match(fs?.name ?? '', /^loop\d+$/);
    assert.deepEqual(fs?.disk, [], 'a loop device is virtual with no slaves: no disk address, as in qemu-ga');
    assert.ok(Number(fs?.totalBytes) > 40 * 1024 * 1024);
  });

  test('native addon: FIFREEZE blocks writers, a second FIFREEZE is EBUSY (not counted), FITHAW until EINVAL', async (t) => {
    if (skip()) return t.skip(String(skip()));
    if (!loadNative()) return t.skip('native addon not built: run node-gyp rebuild');
    const s = new LinuxStorage(root);
    assert.equal(await s.freeze(mnt), true);
    let probe: Awaited<ReturnType<typeof probeWrite>> | undefined;
    try {
      probe = await probeWrite();
      assert.equal(probe.blocked, true, 'a write must block while frozen');
      assert.equal(await s.freeze(mnt), false);
    } finally {
      assert.equal(await s.thaw(mnt), true);
    }
    await probe?.done;
    assert.equal(await s.thaw(mnt), false, 'not frozen any more: nothing to thaw');
    assert.equal((await probeWrite()).blocked, false);
  });

  test('native addon: FITRIM reports bytes and the minimum used', async (t) => {
    if (skip()) return t.skip(String(skip()));
    if (!loadNative()) return t.skip('native addon not built');
    const [r] = await new LinuxStorage(root).trim(0);
    assert.equal(r?.path, mnt);
    assert.equal(r?.error, undefined);
    assert.equal(typeof r?.trimmed, 'bigint');
    assert.ok((r?.trimmed as bigint) > 0n);
    assert.equal(typeof r?.minimum, 'bigint');
  });

  test('util-linux fallback: fsfreeze -f/-u and fstrim -v', async (t) => {
    if (skip()) return t.skip(String(skip()));
    if (run('fsfreeze', ['--version']).status !== 0) return t.skip('util-linux fsfreeze missing');
    const s = new LinuxStorage(root, { ioctl: {} });
    assert.equal(await s.freeze(mnt), true);
    let probe: Awaited<ReturnType<typeof probeWrite>> | undefined;
    try {
      probe = await probeWrite();
      assert.equal(probe.blocked, true);
    } finally {
      assert.equal(await s.thaw(mnt), true);
    }
    await probe?.done;
    assert.equal(await s.thaw(mnt), false);
    const [r] = await s.trim(0);
    assert.equal(r?.path, mnt);
    assert.equal(r?.error, undefined);
    assert.equal(typeof r?.trimmed, 'bigint');
  });

  test('freeze commands end to end, and the watchdog thaws after 1 s', async (t) => {
    if (skip()) return t.skip(String(skip()));
    const storage = new LinuxStorage(root);
    const h = createFreezeHandlers(new FreezeController({ runHook: runFsfreezeHook }));
    const { ctx } = ctxFor(storage);
    assert.equal(await h['guest-fsfreeze-freeze']?.({}, ctx), 1);
    assert.equal(await h['guest-fsfreeze-status']?.({}, ctx), 'frozen');
    assert.equal(await h['guest-fsfreeze-thaw']?.({}, ctx), 1);
    assert.equal(await h['guest-fsfreeze-status']?.({}, ctx), 'thawed');

    const w = ctxFor(storage, 1);
    assert.equal(await h['guest-fsfreeze-freeze-list']?.({ mountpoints: [mnt] }, w.ctx), 1);
    const probe = await probeWrite();
    assert.equal(probe.blocked, true);
    await probe.done; // the watchdog's thaw lets the writer finish
    assert.equal(w.ctx.state.frozen, false);
    assert.equal(w.warnings.length, 1);
    assert.equal((await probeWrite()).blocked, false, 'thawed by the watchdog');
    assert.equal(await h['guest-fsfreeze-thaw']?.({}, w.ctx), 0, "the host's later thaw finds nothing frozen");
  });
});
