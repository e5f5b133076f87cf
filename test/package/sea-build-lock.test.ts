// scripts/build-sea.mjs when builds into one directory run at once, as test files do: they take turns
// from the stamp check to the last rename, so the second finds the first's build fresh and leaves the
// file alone. Before, both rebuilt and the second rename replaced the executable under an agent the
// first had started (its /proc/PID/exe then read "(deleted)": test/executable failed so).

import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readdirSync, rmSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, test } from 'node:test';
import { REPO_ROOT, runScript } from './build.js';

mkdirSync(path.join(REPO_ROOT, '.tmp'), { recursive: true }); // a fresh clone has none until a build makes it
const dir = mkdtempSync(path.join(REPO_ROOT, '.tmp', 'sea-lock-test-'));
after(() => rmSync(dir, { recursive: true, force: true }));

interface BuildResult {
  rebuilt: boolean;
  times: Record<string, number>;
}

/** One build-sea run into `out` (test/package/build.ts runScript); resolves with its JSON line. */
async function build(out: string): Promise<BuildResult> {
  const r = await runScript('build-sea.mjs', ['--out', out, '--quiet']);
  if (r.code !== 0) throw new Error(`build-sea exited ${r.code}: ${r.stderr}`);
  return JSON.parse(r.stdout.trim().split('\n').pop() ?? '{}');
}

test('two builds into one directory at once: one builds, the other waits and finds it fresh', { timeout: 240_000 }, async () => {
  const out = path.join(dir, 'both');
  const [a, b] = await Promise.all([build(out), build(out)]);
  assert.deepEqual([a.rebuilt, b.rebuilt].sort(), [false, true], JSON.stringify({ a, b }));
  const waited = a.rebuilt ? b : a;
  assert.ok(waited.times.lockMs !== undefined, 'the second build reports how long it waited for the lock');
  assert.deepEqual(readdirSync(out).sort(), ['.stamp', 'guestlink', 'guestlink-agent', 'guestlink.node'], 'no lock or work directory left');
  // A third build (the inputs unchanged) leaves the same file in place: an agent started from it keeps its exe.
  const ino = statSync(path.join(out, 'guestlink')).ino;
  assert.equal((await build(out)).rebuilt, false);
  assert.equal(statSync(path.join(out, 'guestlink')).ino, ino);
});

test('a lock left by a build that died (its PID gone, or never written) is taken over, not waited on', { timeout: 240_000 }, async () => {
  const out = path.join(dir, 'stale');
  mkdirSync(path.join(out, '.lock'), { recursive: true });
  // PID 2^22 + 1 is above Linux's pid_max ceiling (2^22): no process can have it.
  writeFileSync(path.join(out, '.lock', 'pid'), String(2 ** 22 + 1));
  const r = await build(out);
  assert.equal(r.rebuilt, true);
  assert.ok((r.times.lockMs ?? Number.POSITIVE_INFINITY) < 5_000, `took the stale lock at once (${r.times.lockMs} ms)`);
  assert.deepEqual(readdirSync(out).sort(), ['.stamp', 'guestlink', 'guestlink-agent', 'guestlink.node']);

  // A lock without a PID, older than a minute: a build killed between making the lock and writing its PID.
  mkdirSync(path.join(out, '.lock'));
  const old = new Date(Date.now() - 120_000);
  utimesSync(path.join(out, '.lock'), old, old);
  const again = await build(out);
  assert.equal(again.rebuilt, false);
  assert.ok((again.times.lockMs ?? Number.POSITIVE_INFINITY) < 5_000, `took the PID-less lock at once (${again.times.lockMs} ms)`);
  assert.deepEqual(readdirSync(out).sort(), ['.stamp', 'guestlink', 'guestlink-agent', 'guestlink.node']);
});
