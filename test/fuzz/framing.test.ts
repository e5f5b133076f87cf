// Fuzzing the framing and dispatch path: random bytes and mutated valid requests (splices,
// truncations, 0xFF insertions, huge numbers, deep nesting, concatenations), fed in random
// chunkings to an in-process reader + dispatcher wired like src/agent/serve.ts, and to a real
// agent process over its unix socket. Properties: nothing throws or rejects, every reply is one
// line ending in "\n" (optionally after 0xFF), valid JSON with exactly `return` or `error` (+ `id`),
// and the agent's memory stays bounded.
//
// Knobs (read here only, for longer runs): GUESTLINK_FUZZ_RUNS=N sets the number of in-process runs
// (default 2000; the process part runs N/10, the chunking-invariance part N/2); GUESTLINK_FUZZ_SEED=S
// replays a seed printed in a test name.
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { after, before, describe, test } from 'node:test';
import fc from 'fast-check';
import pino from 'pino';
import type { Session } from '../../src/commands/context.js';
import { FileTable } from '../../src/commands/file-table.js';
import { makeHandlers } from '../../src/commands/index.js';
import { Dispatcher, type Reply } from '../../src/dispatch/dispatcher.js';
import { CommandPolicy } from '../../src/dispatch/policy.js';
import { DryRunPower } from '../../src/node/dry-run/power.js';
import type { NodeBackend } from '../../src/node/interfaces.js';
import { type JsonEvent, JsonStreamReader, QEMU_JSON_LIMITS } from '../../src/protocol/qga/json-stream.js';
import { MemoryAgentState } from '../doubles/memory-state.js';
import { TEST_SETTINGS } from '../doubles/settings.js';
import { type Peers, QEMU_BLOCK, RawClient, showBytes, splitReplies, startPeers } from '../peer/harness.js';

const handlers = makeHandlers({ files: new FileTable() });

const RUNS = Number(process.env.GUESTLINK_FUZZ_RUNS ?? 2000);
const SEED = process.env.GUESTLINK_FUZZ_SEED === undefined ? Date.now() & 0x7fffffff : Number(process.env.GUESTLINK_FUZZ_SEED);
const PROCESS_RUNS = Math.max(20, Math.floor(RUNS / 10));

const unhandled: unknown[] = [];
process.on('unhandledRejection', (err) => unhandled.push(err));

const CORPUS = [
  '{"execute":"guest-ping"}',
  '{"execute":"guest-ping","id":"abc"}',
  '{"execute":"guest-sync","arguments":{"id":1234}}',
  '{"execute":"guest-sync-delimited","arguments":{"id":18446744073709551615}}',
  '{"execute":"guest-sync-delimited","arguments":{"id":42}}',
  '{"execute":"guest-info"}',
  '{"execute":"guest-get-time","id":{"a":[1,2.5,null,true]}}',
  '{"execute":"guest-exec","arguments":{"path":"/bin/true","arg":["a"],"capture-output":true}}',
  '{"execute":"guest-file-seek","arguments":{"handle":1000,"offset":-1,"whence":"cur"}}',
  '{"execute":"guest-shutdown","arguments":{"mode":"reboot"}}',
  '{"execute":"guest-set-time","arguments":{"time":1700000000000000000}}',
  "{'execute':'guest-ping','id':'\\u00e9\\uD83D\\uDE00'}",
  '{"execute":"guest-nope","arguments":{}}',
].map((s) => Buffer.from(s));

type Mutation =
  | { kind: 'splice'; at: number; del: number; ins: Uint8Array }
  | { kind: 'truncate'; at: number }
  | { kind: 'ff'; at: number }
  | { kind: 'number'; at: number; digits: number; neg: boolean }
  | { kind: 'nest'; at: number; depth: number; close: boolean }
  | { kind: 'concat'; other: Buffer };

const mutationArb: fc.Arbitrary<Mutation> = fc.oneof(
  fc.record({ kind: fc.constant('splice' as const), at: fc.nat(), del: fc.nat({ max: 8 }), ins: fc.uint8Array({ maxLength: 8 }) }),
  fc.record({ kind: fc.constant('truncate' as const), at: fc.nat() }),
  fc.record({ kind: fc.constant('ff' as const), at: fc.nat() }),
  fc.record({ kind: fc.constant('number' as const), at: fc.nat(), digits: fc.integer({ min: 1, max: 400 }), neg: fc.boolean() }),
  fc.record({ kind: fc.constant('nest' as const), at: fc.nat(), depth: fc.integer({ min: 1, max: 1100 }), close: fc.boolean() }),
  fc.record({ kind: fc.constant('concat' as const), other: fc.constantFrom(...CORPUS) }),
);

function mutate(base: Buffer, muts: Mutation[]): Buffer {
  let b = base;
  for (const m of muts) {
    const at = 'at' in m ? m.at % (b.length + 1) : 0;
    switch (m.kind) {
      case 'splice':
        b = Buffer.concat([b.subarray(0, at), m.ins, b.subarray(Math.min(b.length, at + m.del))]);
        break;
      case 'truncate':
        b = b.subarray(0, at);
        break;
      case 'ff':
        b = Buffer.concat([b.subarray(0, at), Buffer.from([0xff]), b.subarray(at)]);
        break;
      case 'number':
        b = Buffer.concat([b.subarray(0, at), Buffer.from(`${m.neg ? '-' : ''}9${'7'.repeat(m.digits - 1)}`), b.subarray(at)]);
        break;
      case 'nest':
        b = Buffer.concat([b.subarray(0, at), Buffer.from('['.repeat(m.depth) + (m.close ? ']'.repeat(m.depth) : '')), b.subarray(at)]);
        break;
      case 'concat':
        b = Buffer.concat([b, m.other]);
        break;
    }
  }
  return b;
}

const inputArb: fc.Arbitrary<Buffer> = fc.oneof(
  { weight: 3, arbitrary: fc.tuple(fc.constantFrom(...CORPUS), fc.array(mutationArb, { maxLength: 4 })).map(([b, m]) => mutate(b, m)) },
  { weight: 1, arbitrary: fc.uint8Array({ maxLength: 300 }).map((u) => Buffer.from(u)) },
  { weight: 1, arbitrary: fc.string({ maxLength: 100, unit: 'binary' }).map((s) => Buffer.from(s)) },
);

/** An input plus how to cut it into writes. */
const chunkedArb = fc.tuple(
  fc.array(inputArb, { minLength: 1, maxLength: 3 }),
  fc.array(fc.integer({ min: 1, max: 97 }), { maxLength: 30 }),
);

function chunk(buf: Buffer, sizes: number[]): Buffer[] {
  const out: Buffer[] = [];
  let at = 0;
  for (const s of sizes) {
    if (at >= buf.length) break;
    out.push(buf.subarray(at, at + s));
    at += s;
  }
  if (at < buf.length) out.push(buf.subarray(at));
  return out;
}

/**
 * JSON.parse, except that a non-finite float echoed in an id is accepted: qemu-ga 7.2 prints a
 * request id of 1e400 as `inf` (C's %.17g), which is not JSON, and guestlink is byte-compatible.
 */
function parseReply(text: string): Record<string, any> {
  try {
    return JSON.parse(text);
  } catch (err) {
    const patched = text.replace(/([:[,] ?)(-?inf|nan)(?=[,\]}])/g, '$1null');
    if (patched === text) throw err;
    return JSON.parse(patched);
  }
}

/** Checks one reply line: one "\n" at the end, valid JSON, exactly return or error (+ id). */
function checkReply(line: Buffer): void {
  const body = line[0] === 0xff ? line.subarray(1) : line;
  assert.equal(body.at(-1), 0x0a, `no newline: ${showBytes(line)}`);
  assert.equal(body.indexOf(0x0a), body.length - 1, `more than one line: ${showBytes(line)}`);
  assert.ok(!body.includes(0xff), `stray 0xFF in a reply: ${showBytes(line)}`);
  const obj = parseReply(body.toString('utf8'));
  const keys = Object.keys(obj).sort();
  assert.ok(
    ['return', 'error'].includes(keys.filter((k) => k !== 'id').join()) && keys.length <= 2 && (keys.length === 1 || keys.includes('id')),
    `bad keys ${keys}`,
  );
  if ('error' in obj) {
    assert.deepEqual(Object.keys(obj.error).sort(), ['class', 'desc']);
    assert.ok(['GenericError', 'CommandNotFound'].includes(obj.error.class));
    assert.equal(typeof obj.error.desc, 'string');
  }
}

/** A back end that fails every call but power (dry-run): the fuzz exercises framing and dispatch, not /proc. */
function fakeNode(power: DryRunPower): NodeBackend {
  const base: Record<string, unknown> = { name: 'fuzz', power, unsupportedCommands: [] };
  return new Proxy(base, {
    get(target, prop) {
      if (prop in target) return target[prop as string];
      if (typeof prop === 'symbol' || prop === 'then') return undefined;
      throw new Error(`fuzz back end: ${String(prop)} is not available`);
    },
  }) as unknown as NodeBackend;
}

function inProcessAgent() {
  const sink = new Writable({ write: (_c, _e, cb) => cb() });
  const log = pino({ level: 'fatal' }, sink);
  const dispatcher = new Dispatcher({
    version: 'fuzz',
    handlers,
    policy: new CommandPolicy({ blockRpcs: QEMU_BLOCK }),
    node: fakeNode(new DryRunPower()),
    state: new MemoryAgentState(),
    settings: TEST_SETTINGS,
    log,
    audit: log,
  });
  return dispatcher;
}

/** One connection as serve.ts runs it: a reader and an in-order reply queue. */
async function converse(dispatcher: Dispatcher, writes: Buffer[]): Promise<{ events: number; replies: Reply[] }> {
  const session: Session = { id: 1, delimitNextReply: false };
  const replies: Reply[] = [];
  let events = 0;
  let queue = Promise.resolve();
  const reader = new JsonStreamReader((ev: JsonEvent) => {
    events++;
    queue = queue.then(async () => {
      replies.push(await dispatcher.dispatch(ev, session));
    });
  }, QEMU_JSON_LIMITS);
  for (const w of writes) reader.feed(w);
  await queue;
  return { events, replies };
}

describe('fuzz: framing and dispatch', () => {
  test(`in-process reader + dispatcher (${RUNS} runs, seed ${SEED})`, async () => {
    const dispatcher = inProcessAgent();
    await fc.assert(
      fc.asyncProperty(chunkedArb, async ([inputs, sizes]) => {
        const { events, replies } = await converse(dispatcher, chunk(Buffer.concat(inputs), sizes));
        // Power commands are blocked, so every event owes exactly one reply.
        assert.equal(replies.length, events);
        for (const r of replies) {
          assert.ok(r !== null);
          checkReply(r);
        }
      }),
      { numRuns: RUNS, seed: SEED },
    );
  });

  test('in-process: the same input gives the same replies however it is chunked', async () => {
    const dispatcher = inProcessAgent();
    await fc.assert(
      fc.asyncProperty(inputArb, fc.array(fc.integer({ min: 1, max: 13 }), { maxLength: 40 }), async (input, sizes) => {
        const whole = await converse(dispatcher, [input]);
        const cut = await converse(dispatcher, chunk(input, sizes));
        const show = (r: Reply[]) => r.map((x) => (x ? x.toString('latin1') : null));
        assert.deepEqual(show(cut.replies), show(whole.replies));
      }),
      { numRuns: Math.max(50, Math.floor(RUNS / 2)), seed: SEED },
    );
  });

  describe('a real agent process over its unix socket', () => {
    let peers: Peers;
    before(async () => {
      peers = await startPeers({ qemu: false });
    });
    after(async () => peers?.stop());

    test(`${PROCESS_RUNS} conversations; each reply one well-formed line; RSS bounded`, async () => {
      const agent = peers.agent;
      assert.ok(agent);
      const rss0 = agent.rssKiB() ?? 0;
      let peak = rss0;
      let k = 0;
      await fc.assert(
        fc.asyncProperty(chunkedArb, async ([inputs, sizes]) => {
          const id = ++k;
          const c = await RawClient.connect(agent.socket);
          try {
            for (const w of chunk(Buffer.concat(inputs), sizes)) await c.write(w);
            // End whatever is half-read, then a sync whose reply marks the end of this conversation.
            await c.write(Buffer.concat([Buffer.from([0xff]), Buffer.from(`\n{"execute":"guest-sync","arguments":{"id":${id}}}\n`)]));
            let got = Buffer.alloc(0);
            const want = `{"return": ${id}}\n`;
            const deadline = Date.now() + 5000;
            while (!got.toString('latin1').endsWith(want)) {
              assert.ok(Date.now() < deadline, `no sync reply; got ${showBytes(got)}`);
              assert.ok(!c.closedByPeer, 'agent closed the connection');
              got = Buffer.concat([got, await c.collect({ replies: 1, quietMs: 2000, timeoutMs: 3000 })]);
            }
            for (const line of splitReplies(got)) checkReply(line);
          } finally {
            await c.close();
          }
          peak = Math.max(peak, agent.rssKiB() ?? 0);
        }),
        { numRuns: PROCESS_RUNS, seed: SEED },
      );
      assert.ok(agent.alive(), 'agent died');
      assert.ok(peak - rss0 < 100 * 1024, `RSS grew from ${rss0} KiB to ${peak} KiB`);
    });
  });

  test('no unhandled promise rejection happened', () => {
    assert.deepEqual(unhandled, []);
  });
});
