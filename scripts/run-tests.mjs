#!/usr/bin/env node
// Runs every compiled test file with node:test. Node 20's --test does not expand globs, so the
// files are listed here. --unit runs only the unit tests under dist/src; other words filter the paths.
// --shuffle[=SEED] runs the files in a random order (the seed is printed, so a failing order can be
// replayed). Under CI (CI=true) a skipped test is a failure: a skip says what is missing here (the
// addon, qemu-ga, a tool), and CI must have everything, so a green run cannot hide a missing peer.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

const root = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..');
const args = process.argv.slice(2);
const unitOnly = args.includes('--unit');
const shuffleArg = args.find((a) => a === '--shuffle' || a.startsWith('--shuffle='));
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
const res = spawnSync(
  process.execPath,
  [
    '--test',
    '--test-concurrency=2',
    `--test-reporter=${reporter}`,
    '--test-reporter-destination=stdout',
    '--test-reporter=tap',
    `--test-reporter-destination=${tap}`,
    ...files,
  ],
  { stdio: 'inherit', cwd: root },
);
let status = res.status ?? 1;
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
