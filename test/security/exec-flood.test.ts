// Attack: exhaust the agent's memory and process table through guest-exec. Before the fix 30 requests
// with 16 MiB of input-data each and no guest-exec-status took the agent from ~50 MB to 1.13 GB and
// kept it there, and nothing bounded processes or retained output. Now each resource has a cap with a
// flag (docs/security.md, "Programs: guest-exec"); a refused request gets a GenericError naming the
// limit and its flag, and everything accepted before stays collectable. The agent's RSS is sampled
// from /proc/PID/status throughout and must stay under the documented ceiling.
import assert from 'node:assert/strict';
import { mkdirSync, readdirSync, rmSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { JsonObject } from '../../src/protocol/qga/json-value.js';
import { makeTempDir, type Peer, startGuestlink } from '../peer/harness.js';
import { plain, qga, show } from '../talos/helpers.js';

/** docs/security.md: with the default caps the agent stays under 256 MiB, the DaemonSet's memory limit. */
const CEILING_MIB = 256;
const MiB = 1 << 20;

type Reply = { return?: Record<string, unknown>; error?: { class: string; desc: string } };
const call = async (peer: Peer, execute: string, args: JsonObject) => plain(await qga(peer.socket, execute, args, 30_000)) as Reply;

/** Samples the agent's RSS every 20 ms until stopped; returns the peak in MiB. */
function sampleRss(peer: Peer): () => number {
  let peak = peer.rssKiB() ?? 0;
  const timer = setInterval(() => {
    peak = Math.max(peak, peer.rssKiB() ?? 0);
  }, 20);
  return () => {
    clearInterval(timer);
    peak = Math.max(peak, peer.rssKiB() ?? 0);
    return peak / 1024;
  };
}

/** Polls guest-exec-status until the process is reported exited. */
async function collect(peer: Peer, pid: number): Promise<Record<string, unknown>> {
  for (;;) {
    const st = await call(peer, 'guest-exec-status', { pid });
    assert.ok(st.return, show(st));
    if (st.return.exited === true) return st.return;
    await new Promise((r) => setTimeout(r, 20));
  }
}

/**
 * What a test started, ended whatever happens to the test: its programs killed by the pids the agent
 * reported and collected with guest-exec-status (so the next test finds the process table and the budgets
 * as they were before), its programs' children by their marker files. Errors here are swallowed: a pid
 * already collected by the test is refused by guest-exec-status, which is what cleaning up wants.
 */
async function cleanUp(peer: Peer, pids: readonly number[]): Promise<void> {
  for (const pid of pids) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {}
  }
  for (const pid of pids) {
    for (;;) {
      const st = await call(peer, 'guest-exec-status', { pid }).catch(() => undefined);
      if (st?.return?.exited !== false) break;
      await new Promise((r) => setTimeout(r, 20));
    }
  }
}

// A timeout for the whole file: a test that fails mid-way must never hang the run (CI's limit is 90 minutes).
describe('guest-exec flood', { timeout: 120_000 }, () => {
  const dir = makeTempDir('guestlink-sec-flood-');
  let agent: Peer;

  before(async () => {
    agent = await startGuestlink(dir, ['--allow-exec', '/bin/sleep,/bin/true,/bin/sh']);
  });
  after(async () => {
    await agent?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  test('30 x 16 MiB input-data for a program that never reads it, no exec-status: the input budget refuses the rest; RSS stays under the ceiling', async (t) => {
    const started: number[] = [];
    try {
      const input = Buffer.alloc(16 * MiB, 0x41).toString('base64');
      const stop = sampleRss(agent);
      const replies: Reply[] = [];
      for (let i = 0; i < 30; i++) {
        const r = await call(agent, 'guest-exec', { path: '/bin/sleep', arg: ['600'], 'input-data': input });
        replies.push(r);
        if (typeof r.return?.pid === 'number') started.push(r.return.pid);
      }
      const peak = stop();
      t.diagnostic(`peak RSS ${peak.toFixed(0)} MiB (ceiling ${CEILING_MIB} MiB)`);
      const accepted = replies.filter((r) => r.return).map((r) => r.return?.pid as number);
      assert.equal(accepted.length, 2, 'two 16 MiB inputs fit the 32 MiB default');
      for (const r of replies.slice(2))
        assert.deepEqual(r.error, {
          class: 'GenericError',
          desc: 'guest-exec: input-data of 16 MiB does not fit: 32 MiB of at most 32 MiB is held for programs that have not read theirs yet; try again once they have read it or ended (the limit is set with --max-exec-input-bytes)',
        });
      assert.ok(peak < CEILING_MIB, `peak RSS ${peak.toFixed(0)} MiB is over ${CEILING_MIB} MiB`);
      // Nothing accepted is lost: both are still running, and once ended they are reported and their input released.
      for (const pid of accepted) assert.deepEqual((await call(agent, 'guest-exec-status', { pid })).return, { exited: false });
      for (const pid of accepted) process.kill(pid, 'SIGKILL');
      for (const pid of accepted) assert.deepEqual(await collect(agent, pid), { signal: 9, exited: true });
      const again = await call(agent, 'guest-exec', { path: '/bin/sleep', arg: ['600'], 'input-data': input });
      assert.equal(typeof again.return?.pid, 'number', show(again));
      started.push(again.return?.pid as number);
    } finally {
      await cleanUp(agent, started);
    }
  });

  test('many short programs never reported: 16 are kept, the rest refused naming the limit; all 16 are still collectable', async () => {
    const pids: number[] = [];
    try {
      const replies: Reply[] = [];
      for (let i = 0; i < 30; i++) {
        const r = await call(agent, 'guest-exec', { path: '/bin/true' });
        replies.push(r);
        if (typeof r.return?.pid === 'number') pids.push(r.return.pid);
      }
      assert.equal(pids.length, 16);
      for (const r of replies.slice(16))
        assert.deepEqual(r.error, {
          class: 'GenericError',
          desc: 'guest-exec: 16 processes are running or not yet reported, the most the agent keeps; collect finished ones with guest-exec-status first (the limit is set with --max-exec-processes)',
        });
      for (const pid of pids) assert.deepEqual(await collect(agent, pid), { exitcode: 0, exited: true });
      const again = await call(agent, 'guest-exec', { path: '/bin/true' });
      assert.equal(typeof again.return?.pid, 'number', show(again));
      pids.push(again.return?.pid as number);
    } finally {
      await cleanUp(agent, pids);
    }
  });

  test('output: 5 programs writing 16 MiB each keep 64 MiB in all, the rest flagged truncated; then a capture is refused; RSS under the ceiling', async (t) => {
    const pids: number[] = [];
    const done = path.join(dir, 'done');
    mkdirSync(done);
    try {
      const stop = sampleRss(agent);
      // Each program marks its end in `done`, so the test knows all output is in without collecting any.
      const big = { path: '/bin/sh', arg: ['-c', `head -c 16777216 /dev/zero; touch ${done}/$$`], 'capture-output': true };
      for (let i = 0; i < 5; i++) {
        const r = await call(agent, 'guest-exec', big);
        assert.equal(typeof r.return?.pid, 'number', show(r));
        pids.push(r.return?.pid as number);
      }
      await until(async () => readdirSync(done).length === 5);
      const held = stop();
      const stopCollecting = sampleRss(agent);
      const refused = await call(agent, 'guest-exec', big);
      if (typeof refused.return?.pid === 'number') pids.push(refused.return.pid);
      assert.deepEqual(refused.error, {
        class: 'GenericError',
        desc: 'guest-exec: the output kept for processes not yet reported has reached 64 MiB; collect it with guest-exec-status first (the limit is set with --max-exec-output-bytes)',
      });
      let kept = 0;
      let truncated = 0;
      for (const pid of pids) {
        const st = await collect(agent, pid);
        assert.equal(st.exitcode, 0);
        kept += Buffer.from(String(st['out-data'] ?? ''), 'base64').length;
        if (st['out-truncated'] === true) truncated++;
      }
      const peak = Math.max(held, stopCollecting());
      t.diagnostic(
        `peak RSS ${peak.toFixed(0)} MiB (${held.toFixed(0)} MiB while the output came in); ${kept} bytes kept, ${truncated} of 5 truncated`,
      );
      assert.equal(kept, 64 * MiB);
      assert.ok(truncated >= 1);
      assert.ok(peak < CEILING_MIB, `peak RSS ${peak.toFixed(0)} MiB is over ${CEILING_MIB} MiB`);
      // Collected: room again.
      const again = await call(agent, 'guest-exec', { path: '/bin/true', 'capture-output': true });
      assert.equal(typeof again.return?.pid, 'number', show(again));
      pids.push(again.return?.pid as number);
      await collect(agent, again.return?.pid as number);
    } finally {
      await cleanUp(agent, pids);
      rmSync(done, { recursive: true, force: true });
    }
  });
});

/** Polls an async condition (no fixed sleeps). */
async function until(cond: () => Promise<boolean>): Promise<void> {
  while (!(await cond())) await new Promise((r) => setTimeout(r, 50));
}
