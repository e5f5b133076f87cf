import assert from 'node:assert/strict';
import {
  chmodSync,
  lstatSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, test } from 'node:test';
import { appendPrivate, atomicWrite, checkPrivateDir, FileAgentState } from './state.js';

const work = mkdtempSync(path.join(os.tmpdir(), 'guestlink-state-'));
after(() => rmSync(work, { recursive: true, force: true }));
let n = 0;
/** A fresh private statedir and a victim file outside it that nothing may write to. */
function setup(): { dir: string; victim: string } {
  const dir = path.join(work, `s${++n}`);
  mkdirSync(dir, { mode: 0o700 });
  const victim = path.join(work, `victim${n}`);
  writeFileSync(victim, 'untouched');
  return { dir, victim };
}

test('the statedir must be ours and not writable by group or others', async () => {
  const { dir } = setup();
  const uid = process.geteuid?.() as number;
  await checkPrivateDir(dir, uid);
  chmodSync(dir, 0o755);
  await checkPrivateDir(dir, uid);
  for (const [mode, who] of [
    [0o777, 'group and others'],
    [0o775, 'group'],
    [0o757, 'others'],
    [0o1777, 'group and others'],
  ] as const) {
    chmodSync(dir, mode);
    await assert.rejects(() => checkPrivateDir(dir, uid), {
      code: 'CONFIG',
      message: `statedir ${dir} is writable by ${who} (mode ${mode.toString(8).padStart(4, '0')}), so another user could plant files in it: chmod go-w ${dir} or choose another --statedir`,
    });
  }
  chmodSync(dir, 0o700);
  await assert.rejects(() => checkPrivateDir(dir, uid + 1), {
    message: `statedir ${dir} belongs to uid ${uid}, not to the agent's user (uid ${uid + 1}): chown it or choose another --statedir`,
  });
  writeFileSync(path.join(dir, 'file'), '');
  await assert.rejects(() => checkPrivateDir(path.join(dir, 'file'), uid), /is not a directory/);
});

test('load() makes a missing statedir 0700 and refuses an insecure one', async () => {
  const dir = path.join(work, 'new', 'state');
  await new FileAgentState(dir).load();
  assert.equal(statSync(dir).mode & 0o777, 0o700);
  chmodSync(dir, 0o777);
  await assert.rejects(() => new FileAgentState(dir).load(), /is writable by group and others/);
});

test("a statedir made inside a world-writable parent (the DaemonSet's emptyDir is 0777) is private and accepted", async () => {
  const parent = path.join(work, 'emptydir');
  mkdirSync(parent);
  chmodSync(parent, 0o777);
  await new FileAgentState(path.join(parent, 'state')).load();
  assert.equal(statSync(path.join(parent, 'state')).mode & 0o777, 0o700);
  await assert.rejects(() => new FileAgentState(parent).load(), /is writable by group and others \(mode 0777\)/);
});

test('atomicWrite replaces a symlink planted at the name instead of writing through it, and leaves no temporary file', async () => {
  const { dir, victim } = setup();
  const file = path.join(dir, 'guestlink.state');
  symlinkSync(victim, file);
  await atomicWrite(file, '{"fileHandleCounter":1000}');
  assert.equal(readFileSync(victim, 'utf8'), 'untouched');
  assert.ok(lstatSync(file).isFile());
  assert.equal(lstatSync(file).mode & 0o777, 0o600);
  assert.deepEqual(readdirSync(dir), ['guestlink.state']);
});

test('the frozen marker: written by rename, never read or written through a planted symlink', async () => {
  const { dir, victim } = setup();
  writeFileSync(victim, '{"deadline":"victim"}');
  const state = await new FileAgentState(dir).load();
  symlinkSync(victim, path.join(dir, 'guestlink.frozen'));
  // A marker the agent did not write still counts as frozen after a restart (the safe side), but is not read.
  const restarted = await new FileAgentState(dir).load();
  assert.equal(restarted.frozen, true);
  assert.equal(await restarted.frozenDetails(), undefined);
  await state.setFrozen(true, { deadline: 'x' });
  assert.equal(readFileSync(victim, 'utf8'), '{"deadline":"victim"}');
  assert.equal((await state.frozenDetails())?.deadline, 'x');
  await state.setFrozen(false);
  assert.equal(readFileSync(victim, 'utf8'), '{"deadline":"victim"}');
  assert.deepEqual(readdirSync(dir).sort(), ['guestlink.state']);
});

test('handle numbers: unique and persisted when asked for concurrently, continued after a restart', async () => {
  const { dir } = setup();
  const state = await new FileAgentState(dir).load();
  const got = await Promise.all(Array.from({ length: 50 }, () => state.nextFileHandle()));
  assert.equal(new Set(got).size, 50);
  assert.deepEqual(
    [...got].sort((a, b) => a - b),
    Array.from({ length: 50 }, (_, i) => 1000 + i),
  );
  assert.deepEqual(JSON.parse(readFileSync(path.join(dir, 'guestlink.state'), 'utf8')), { fileHandleCounter: 1050 });
  assert.equal(await (await new FileAgentState(dir).load()).nextFileHandle(), 1050);
});

test('appendPrivate: creates 0600, appends, refuses a symlink at the name', () => {
  const { dir, victim } = setup();
  const log = path.join(dir, 'guestlink-power.jsonl');
  appendPrivate(log, 'a\n');
  appendPrivate(log, 'b\n');
  assert.equal(readFileSync(log, 'utf8'), 'a\nb\n');
  assert.equal(statSync(log).mode & 0o777, 0o600);
  rmSync(log);
  symlinkSync(victim, log);
  assert.throws(() => appendPrivate(log, 'c\n'), { code: 'ELOOP' });
  assert.equal(readFileSync(victim, 'utf8'), 'untouched');
});
