// The exec poller's backoff under mock timers: how many guest-exec-status requests a program of a
// given length costs, and the times they are sent at, exactly (no wall clock involved).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { JsonObject, JsonValue } from '../protocol/qga/json-value.js';
import type { AgentConnection } from './connection.js';
import { execInGuest } from './exec.js';

/** An agent whose one program exits `runMs` after guest-exec (on the mocked clock); it notes when each status came. */
function agentRunningFor(runMs: number, now: () => number): AgentConnection & { statusAt: number[] } {
  let started = 0;
  const statusAt: number[] = [];
  return {
    address: 'unix:/double',
    name: 'double',
    limits: { readChunk: 1 << 20, writeChunk: 1 << 20 },
    statusAt,
    async call(execute: string, _args?: JsonObject): Promise<JsonValue> {
      if (execute === 'guest-exec') {
        started = now();
        return { pid: 42 };
      }
      statusAt.push(now() - started);
      return now() - started >= runMs
        ? { exited: true, exitcode: 0, 'out-data': Buffer.from('done\n').toString('base64') }
        : { exited: false };
    },
    close() {},
  };
}

/** Runs the mocked clock from timer to timer until `p` settles (each poll awaits its reply before it sleeps). */
async function drive<T>(t: { mock: { timers: { runAll(): void } } }, p: Promise<T>): Promise<T> {
  let settled = false;
  p.then(
    () => (settled = true),
    () => (settled = true),
  );
  for (let i = 0; i < 10_000 && !settled; i++) {
    await new Promise((r) => setImmediate(r));
    t.mock.timers.runAll();
  }
  assert.ok(settled, 'the poller stopped moving');
  return p;
}

test('a 1.5 s program: status polled at 0, 20, 60, 140, 300, 620, 1260 and 2260 ms (doubling from 20 ms to 1 s)', async (t) => {
  t.mock.timers.enable({ apis: ['setTimeout', 'Date'] });
  const agent = agentRunningFor(1500, Date.now);
  const r = await drive(t, execInGuest(agent, { path: '/bin/sleep', args: ['1.5'] }));
  assert.deepEqual(agent.statusAt, [0, 20, 60, 140, 300, 620, 1260, 2260]);
  assert.equal(r.polls, 8);
  assert.equal(r.stdout.toString(), 'done\n');
  assert.equal(r.exitCode, 0);
});

test('a long program costs one status request a second once the backoff reaches its ceiling', async (t) => {
  t.mock.timers.enable({ apis: ['setTimeout', 'Date'] });
  const agent = agentRunningFor(60_000, Date.now);
  const r = await drive(t, execInGuest(agent, { path: '/bin/sleep', args: ['60'] }, { maxPollMs: 1000 }));
  const gaps = agent.statusAt.slice(1).map((at, i) => at - (agent.statusAt[i] as number));
  assert.deepEqual(gaps.slice(0, 6), [20, 40, 80, 160, 320, 640]);
  assert.ok(
    gaps.slice(6).every((g) => g === 1000),
    `${gaps}`,
  );
  assert.equal(r.polls, agent.statusAt.length);
});
