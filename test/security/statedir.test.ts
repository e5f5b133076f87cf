// The agent's own files, attacked by a local user: a statedir others can write to (or that belongs to
// someone else) is refused at start-up; symlinks planted in the statedir (at the state file, at the
// temporary name the old code derived from the agent's PID, at the dry-run power log) are never written
// through. On the code before the fix the temporary name and the power log wrote into the victims.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chmodSync, chownSync, lstatSync, mkdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, test } from 'node:test';
import { QgaClient } from '../../src/host/client.js';
import { AGENT_BIN, makeTempDir, startGuestlink } from '../peer/harness.js';

const work = makeTempDir('guestlink-statedir-');
const IS_ROOT = process.geteuid?.() === 0;

/** Runs the agent on `statedir` and expects it to refuse to start; its stderr. */
function refusedStart(statedir: string): string {
  const r = spawnSync(
    process.execPath,
    [AGENT_BIN, '-m', 'unix-listen', '-p', path.join(work, 'never.sock'), '-t', statedir, '--power', 'dry-run', '-c', '/dev/null'],
    { encoding: 'utf8', timeout: 20_000 },
  );
  assert.equal(r.status, 1, `the agent started (or died otherwise): ${r.stderr}`);
  return r.stderr;
}

describe('the statedir at start-up', () => {
  for (const mode of [0o777, 0o1777, 0o770]) {
    test(`mode ${mode.toString(8)}: refused with the reason and the fix`, () => {
      const dir = path.join(work, `mode-${mode.toString(8)}`);
      mkdirSync(dir);
      chmodSync(dir, mode);
      const err = refusedStart(dir);
      assert.match(
        err,
        new RegExp(`^guestlink-agent: statedir ${dir} is writable by (group|group and others) \\(mode 0?${mode.toString(8)}\\)`),
      );
      assert.match(err, /chmod go-w .* or choose another --statedir/);
    });
  }

  test('owned by another user: refused', { skip: IS_ROOT ? false : 'needs root to chown' }, () => {
    const dir = path.join(work, 'nobody');
    mkdirSync(dir, { mode: 0o700 });
    chownSync(dir, 65534, 65534);
    assert.match(refusedStart(dir), new RegExp(`statedir ${dir} belongs to uid 65534, not to the agent's user \\(uid 0\\): chown it`));
  });
});

describe('symlinks planted in the statedir', () => {
  test('state file, the PID-derived temporary name, the dry-run power log: nothing written through them', async (t) => {
    const dir = path.join(work, 'planted');
    const statedir = path.join(dir, 'gst');
    const files = path.join(dir, 'files');
    mkdirSync(statedir, { recursive: true, mode: 0o700 });
    mkdirSync(files);
    writeFileSync(path.join(files, 'f'), 'x');
    const victims = ['state', 'tmp', 'power'].map((v) => path.join(work, `victim-${v}`));
    for (const v of victims) writeFileSync(v, 'untouched', { mode: 0o600 });
    const [stateVictim, tmpVictim, powerVictim] = victims as [string, string, string];
    symlinkSync(stateVictim, path.join(statedir, 'guestlink.state'));
    symlinkSync(powerVictim, path.join(statedir, 'guestlink-power.jsonl'));
    const agent = await startGuestlink(dir, ['--allow-file-read', `${files}/`]);
    t.after(() => agent.stop());
    // The old code wrote the state through `guestlink.state.<pid>.tmp`: a name anyone can compute.
    symlinkSync(tmpVictim, path.join(statedir, `guestlink.state.${agent.pid}.tmp`));
    const client = await QgaClient.connectUnix(agent.socket);
    t.after(() => client.close());
    // Each open persists the handle counter.
    const handle = await client.call('guest-file-open', { path: path.join(files, 'f') });
    await client.call('guest-file-close', { handle: handle as number });
    await assert.rejects(() => client.call('guest-shutdown', { mode: 'powerdown' }, { timeoutMs: 2000 }), /ELOOP/);
    for (const v of victims) assert.equal(readFileSync(v, 'utf8'), 'untouched', `${v} was written through a planted symlink`);
    assert.ok(lstatSync(path.join(statedir, 'guestlink.state')).isFile(), 'the state file replaced the symlink');
    assert.ok(agent.alive(), agent.stderr());
  });
});
