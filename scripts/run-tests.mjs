#!/usr/bin/env node
// Runs every compiled test file with node:test. Node 20's --test does not expand globs, so the
// files are listed here. --unit runs only the unit tests under dist/src; other words filter the paths.
// --shuffle[=SEED] runs the files in a random order (the seed is printed, so a failing order can be
// replayed). Nothing can hang the run: each test (and hook) fails after 15 minutes (the longest, the
// two-VM rollout under TCG, takes ~3.5), a file whose tests are done exits even if a leaked handle
// would keep it alive (--test-force-exit), and the whole run is ended, with every process it started,
// after GUESTLINK_TEST_DEADLINE_MIN minutes (default 45: CI's budget is 90, the suite takes ~14 from a clean clone). Under CI (CI=true) a skipped test is a failure: a skip says what is missing here (the
// addon, qemu-ga, a tool), and CI must have everything, so a green run cannot hide a missing peer.
import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

const root = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..');
const args = process.argv.slice(2);
const unitOnly = args.includes('--unit');
// GUESTLINK_TEST_SHUFFLE=SEED (or `random`) does the same for a run started as `npm test` or `.ci/run`.
const shuffleEnv = process.env.GUESTLINK_TEST_SHUFFLE;
const shuffleArg =
  args.find((a) => a === '--shuffle' || a.startsWith('--shuffle=')) ??
  (shuffleEnv ? (shuffleEnv === 'random' ? '--shuffle' : `--shuffle=${shuffleEnv}`) : undefined);
const filters = args.filter((a) => !a.startsWith('--'));

function walk(dir) {
  let out = [];
  let entries;
  try {
    entries = readdirSync(dir);
  } catch {
    return out;
  }
  for (const name of entries) {
    const p = path.join(dir, name);
    if (statSync(p).isDirectory()) out = out.concat(walk(p));
    else if (name.endsWith('.test.js')) out.push(p);
  }
  return out;
}

let files = walk(path.join(root, 'dist/src'));
if (!unitOnly) files = files.concat(walk(path.join(root, 'dist/test')));
if (filters.length > 0) files = files.filter((f) => filters.some((x) => f.includes(x)));
files.sort();
if (files.length === 0) {
  console.error('no test files found: run `npm run build` first');
  process.exit(1);
}
if (shuffleArg) {
  let seed = shuffleArg.includes('=') ? Number(shuffleArg.split('=')[1]) : Math.floor(Math.random() * 2 ** 31);
  console.log(`# test files shuffled with --shuffle=${seed}`);
  // A small LCG: the same seed gives the same order on every machine.
  const next = () => {
    seed = (seed * 1103515245 + 12345) % 2 ** 31;
    return seed / 2 ** 31;
  };
  for (let i = files.length - 1; i > 0; i--) {
    const j = Math.floor(next() * (i + 1));
    [files[i], files[j]] = [files[j], files[i]];
  }
}
// A second TAP copy of the results goes to a file, read afterwards for skipped tests.
const tmp = mkdtempSync(path.join(os.tmpdir(), 'guestlink-tests-'));
const tap = path.join(tmp, 'results.tap');
const reporter = process.stdout.isTTY ? 'spec' : 'tap';
const deadlineMin = Number(process.env.GUESTLINK_TEST_DEADLINE_MIN ?? 45);
// Its own process group, so the deadline can end the test files and everything they started.
const child = spawn(
  process.execPath,
  [
    '--test',
    '--test-concurrency=2',
    '--test-timeout=900000',
    '--test-force-exit',
    `--test-reporter=${reporter}`,
    '--test-reporter-destination=stdout',
    '--test-reporter=tap',
    `--test-reporter-destination=${tap}`,
    ...files,
  ],
  { stdio: 'inherit', cwd: root, detached: true },
);
// The run is in its own group, so an interrupt from the terminal is passed on to it.
for (const sig of ['SIGINT', 'SIGTERM'])
  process.on(sig, () => {
    try {
      process.kill(-child.pid, sig);
    } catch {}
  });
let timedOut = false;
const deadline = setTimeout(() => {
  timedOut = true;
  console.error(`\nthe test run passed its deadline of ${deadlineMin} minutes: ending it and every process it started`);
  try {
    process.kill(-child.pid, 'SIGKILL');
  } catch {}
}, deadlineMin * 60_000);
const res = await new Promise((resolve) => child.once('exit', (code, signal) => resolve({ status: code, signal })));
clearTimeout(deadline);
if (timedOut) res.status = 1;
// Anything still alive in the group was leaked by a test (tests end what they start, by PID): say so and end it.
// A zombie is not running: it has exited and waits for its parent (PID 1 once its own parent ended, and
// PID 1 in a container may be slow to reap), so it is not counted as a leak.
if (!timedOut) {
  const leaked = inGroup(child.pid);
  if (leaked.length > 0) {
    console.error(
      `\nprocesses started by the tests were still running after them (a test does not clean up); ended now:\n${leaked.join('\n')}`,
    );
    try {
      process.kill(-child.pid, 'SIGKILL');
    } catch {}
  }
}
let status = res.status ?? 1;

/** The command lines of the live (not zombie) processes in group `pgid` (from /proc), to name a leak. */
function inGroup(pgid) {
  const out = [];
  for (const pid of readdirSync('/proc').filter((n) => /^\d+$/.test(n))) {
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      if (Number(fields[2]) !== pgid || fields[0] === 'Z') continue;
      out.push(`  ${pid} ${readFileSync(`/proc/${pid}/cmdline`, 'utf8').replaceAll('\0', ' ').trim()}`);
    } catch {}
  }
  return out;
}
const skipped = readFileSync(tap, 'utf8')
  .split('\n')
  .filter((l) => /^\s*ok \d+ - .*# SKIP/.test(l))
  .map((l) => l.trim());
rmSync(tmp, { recursive: true, force: true });
if (skipped.length > 0) {
  const list = skipped.map((l) => `  ${l}`).join('\n');
  if (process.env.CI === 'true') {
    console.error(`\n${skipped.length} test(s) skipped under CI, where every peer must be present:\n${list}`);
    status = status || 1;
  } else console.error(`\n${skipped.length} test(s) skipped here (CI would fail them):\n${list}`);
}
process.exit(status);
