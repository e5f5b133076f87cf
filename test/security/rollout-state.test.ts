// Attacks on the rollout through its state file, the user's own file that decides which VMs are
// rebooted and which are not again: a planted symlink, damaged or oversized content, a file others
// could write, a plan naming something else, another cluster's state, a "running" rollout of a
// live process, and names with escape sequences in `rollout status`. Each is refused (exit 12)
// with the file named, before any VM is contacted; nothing is rebooted.
import assert from 'node:assert/strict';
import { chmodSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterEach, beforeEach, test } from 'node:test';
import { runCli } from '../cli/run-cli.js';
import { SimCluster } from '../rollout/sim.js';

let sim: SimCluster;
beforeEach(async () => {
  sim = await new SimCluster().start();
  await sim.addVm({ node: 'w1' });
});
afterEach(() => sim.stop());

const env = () => ({ XDG_STATE_HOME: path.join(sim.dir, 'xdg') });
const reboot = (state: string, ...more: string[]) =>
  runCli(['rollout', 'reboot', sim.vm('w1').address, '--kubeconfig', sim.kubeconfig, '--state', state, ...more], { env: env() });

function state(o: Record<string, unknown> = {}): string {
  const now = new Date().toISOString();
  return JSON.stringify({
    version: 1,
    id: 'x',
    server: sim.api.url,
    context: 'double',
    created: now,
    updated: now,
    targets: [sim.vm('w1').address],
    order: 'workers-first',
    maxUnavailable: 1,
    result: 'failed',
    pid: 0,
    host: 'h',
    baseline: { unhealthy: [] },
    nodes: [{ node: 'w1', vm: sim.vm('w1').address, controlPlane: false, batch: 0, matchedBy: 'host-name', status: 'done' }],
    ...o,
  });
}

test('a planted symlink is refused, reading and writing; its target is untouched', async () => {
  const target = path.join(sim.dir, 'victim');
  writeFileSync(target, 'do not overwrite');
  const link = path.join(sim.dir, 'state.json');
  symlinkSync(target, link);
  for (const more of [[], ['--resume']]) {
    const r = await reboot(link, ...more);
    assert.equal(r.status, 12, r.stderr);
    assert.match(
      r.stderr,
      new RegExp(`state file ${link.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}: is a symbolic link; refusing to follow it`),
    );
  }
  assert.equal((await runCli(['rollout', 'status', '--state', link], { env: env() })).status, 12);
  assert.equal(readFileSync(target, 'utf8'), 'do not overwrite');
  assert.equal(sim.vm('w1').reboots, 0);
});

test('damaged, oversized, foreign or shared state files are refused naming the file; nothing rebooted', async () => {
  const cases: [string, string | Buffer, RegExp, number?][] = [
    ['truncated', state().slice(0, 40), /is damaged \(not JSON/],
    ['binary', Buffer.from([0x1b, 0x5b, 0x32, 0x4a, 0x00, 0xff]), /is damaged/],
    ['huge', Buffer.alloc((16 << 20) + 1, 0x20), /more than a rollout state can be/],
    [
      'typed',
      state({ nodes: [{ node: 'w1', vm: 'libvirt:x', controlPlane: 'yes' }] }),
      /is not a guestlink rollout state \(nodes\.0\.controlPlane/,
    ],
    [
      'planted-plan',
      state({ nodes: [{ node: 'w1', vm: 'tcp:10.0.0.1:22', controlPlane: false, batch: 0, matchedBy: 'host-name', status: 'pending' }] }),
      /names a node or VM that no rollout would have planned/,
    ],
    ['world-writable', state(), /can be written by others \(mode 666\)/, 0o666],
    [
      'other-cluster',
      state({ server: 'https://elsewhere:6443' }),
      /is a rollout of https:\/\/elsewhere:6443, but the kubeconfig points at/,
    ],
    [
      'live-owner',
      state({ result: 'running', pid: process.pid, host: (await import('node:os')).hostname() }),
      /another rollout \(pid \d+\) is running/,
    ],
  ];
  for (const [name, content, msg, mode] of cases) {
    const file = path.join(sim.dir, `${name}.json`);
    writeFileSync(file, content, { mode: mode ?? 0o600 });
    if (mode) chmodSync(file, mode);
    const r = await reboot(file, '--resume');
    assert.equal(r.status, 12, `${name}: ${r.stderr}`);
    assert.match(r.stderr, msg, name);
    assert.ok(r.stderr.includes(file), `${name}: the message names the file`);
  }
  // An unfinished rollout is never silently started over.
  const unfinished = path.join(sim.dir, 'unfinished.json');
  writeFileSync(
    unfinished,
    state({
      nodes: [
        {
          node: 'w1',
          vm: sim.vm('w1').address,
          controlPlane: false,
          batch: 0,
          matchedBy: 'host-name',
          status: 'rebooting',
          bootIdBefore: 'b',
        },
      ],
    }),
    { mode: 0o600 },
  );
  const r = await reboot(unfinished);
  assert.equal(r.status, 12);
  assert.match(
    r.stderr,
    /an unfinished rollout is recorded in .*unfinished\.json \(0 of 1 nodes done, failed\): continue it with --resume/,
  );
  assert.equal(sim.vm('w1').reboots, 0);
});

test('rollout status shows hostile text from a state file escaped', async () => {
  const file = path.join(sim.dir, 'odd.json');
  writeFileSync(
    file,
    state({
      context: '\x1b]0;owned\x07',
      failure: { code: 'ROLLOUT_NODE', message: 'boom \x1b[2J\r\x9b31m', node: 'w1' },
      nodes: [
        {
          node: 'w1',
          vm: `${sim.vm('w1').address}\x1b[31m`,
          controlPlane: false,
          batch: 0,
          matchedBy: 'host-name',
          status: 'failed',
          error: '\x07',
        },
      ],
    }),
    { mode: 0o600 },
  );
  const r = await runCli(['rollout', 'status', '--state', file], { env: env() });
  assert.equal(r.status, 0, r.stderr);
  assert.doesNotMatch(r.stdout, /[\x00-\x09\x0b-\x1f\x7f-\x9f]/);
  assert.match(r.stdout, /context \\x1b\]0;owned\\x07/);
  assert.match(r.stdout, /stopped: boom \\x1b\[2J\\x0d\\x9b31m/);
});
