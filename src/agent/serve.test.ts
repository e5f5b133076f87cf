// serve(): order of replies, the promise-free path for handlers that return at once, flow control (one
// request at a time while one is under way: the rest kept, the transport paused) and the budget shared by
// all connections, on a fake transport whose writes the test releases.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import pino from 'pino';
import { testHandlers } from '../../test/doubles/handlers.js';
import { MemoryAgentState } from '../../test/doubles/memory-state.js';
import { TEST_SETTINGS } from '../../test/doubles/settings.js';
import type { Handler } from '../commands/context.js';
import { Dispatcher } from '../dispatch/dispatcher.js';
import { CommandPolicy } from '../dispatch/policy.js';
import { DryRunPower } from '../node/dry-run/power.js';
import type { NodeBackend } from '../node/interfaces.js';
import type { Connection, ConnectionHandlers } from '../transport/types.js';
import { FREE_BYTES_PER_CONNECTION, overBudgetText } from './request-budget.js';
import { type ServeOptions, serve } from './serve.js';

/** A connection whose writes complete at once, or wait until the test calls release() (a host that does not read). */
function fakeConnection(opts: { blockWrites: boolean; id?: number }) {
  const written: string[] = [];
  const blocked: (() => void)[] = [];
  const events: string[] = [];
  const conn: Connection = {
    id: opts.id ?? 1,
    write: (data) => {
      written.push(data.toString('latin1'));
      if (!opts.blockWrites) return undefined;
      return new Promise<void>((resolve) => blocked.push(resolve));
    },
    close() {},
    pause: () => events.push('pause'),
    resume: () => events.push('resume'),
  };
  const release = () => {
    opts.blockWrites = false;
    for (const r of blocked.splice(0)) r();
  };
  return { conn, written, events, release };
}

async function start(extra: Record<string, Handler> = {}, opts: ServeOptions = {}) {
  const log = pino({ level: 'silent' });
  const dispatcher = new Dispatcher({
    version: '9.9.9',
    handlers: { ...testHandlers(), ...extra },
    policy: new CommandPolicy({}),
    node: { name: 'fake', power: new DryRunPower(), unsupportedCommands: [] } as unknown as NodeBackend,
    state: new MemoryAgentState(),
    settings: TEST_SETTINGS,
    log,
    audit: log,
  });
  let h: ConnectionHandlers | undefined;
  await serve({ name: 'fake', start: async (x) => void (h = x), close: async () => {} }, dispatcher, log, opts);
  assert.ok(h);
  return h;
}

const tick = () => new Promise((r) => setImmediate(r));

describe('serve', () => {
  it('answers a request whose handler returns at once inside the data callback, no promise in between', async () => {
    const h = await start();
    const f = fakeConnection({ blockWrites: false });
    h.data(f.conn, Buffer.from('{"execute":"guest-ping"}{"execute":"guest-sync-delimited","arguments":{"id":5}}'));
    assert.deepEqual(f.written, ['{"return": {}}\n', '\xff{"return": 5}\n']);
  });

  it('keeps replies in request order behind a handler that returns a promise', async () => {
    let finish: () => void = () => {};
    const h = await start({
      'guest-get-time': () =>
        new Promise((resolve) => {
          finish = () => resolve(42);
        }),
    });
    const f = fakeConnection({ blockWrites: false });
    h.data(f.conn, Buffer.from('{"execute":"guest-ping","id":1}{"execute":"guest-get-time"}{"execute":"guest-ping","id":3}'));
    assert.deepEqual(f.written, ['{"return": {}, "id": 1}\n']);
    finish();
    await tick();
    assert.deepEqual(f.written, ['{"return": {}, "id": 1}\n', '{"return": 42}\n', '{"return": {}, "id": 3}\n']);
  });

  it('reads no further than the request whose reply waits, keeps the rest, and reads it once the host takes the reply', async () => {
    const h = await start();
    const f = fakeConnection({ blockWrites: true });
    const N = 200;
    const requests = Array.from({ length: N }, (_, i) => `{"execute":"guest-sync","arguments":{"id":${i + 1}}}`).join('');
    // All in one chunk, then more chunks while the first reply waits.
    h.data(f.conn, Buffer.from(requests));
    h.data(f.conn, Buffer.from('{"execute":"guest-sync","arguments":{"id":1001}}'));
    h.data(f.conn, Buffer.from('{"execute":"guest-sync","arguments":{"id":1002}}'));
    // Only the first request was run; the transport is paused until its reply is taken.
    assert.deepEqual(f.written, ['{"return": 1}\n']);
    assert.deepEqual(f.events, ['pause']);
    f.release();
    for (let i = 0; i < 10 && f.written.length < N + 2; i++) await tick();
    assert.deepEqual(f.written, [
      ...Array.from({ length: N }, (_, i) => `{"return": ${i + 1}}\n`),
      '{"return": 1001}\n',
      '{"return": 1002}\n',
    ]);
    assert.deepEqual(f.events, ['pause', 'resume']);
  });

  it('refuses the request that takes all connections past the budget, with a GenericError naming it; the others go on', async () => {
    const limit = 256 << 10;
    const h = await start({}, { maxBufferedBytes: limit });
    const a = fakeConnection({ blockWrites: false, id: 1 });
    const b = fakeConnection({ blockWrites: false, id: 2 });
    const big = (n: number) => Buffer.from(`{"execute":"guest-ping","id":"${'x'.repeat(n)}`);
    // a holds 200 KiB of an unfinished request: 136 KiB charged (the first 64 KiB are free).
    h.data(a.conn, big(200 << 10));
    assert.equal(a.written.length, 0);
    // b's 100 KiB are within its free 64 KiB plus what is left: still fine.
    h.data(b.conn, big(100 << 10));
    assert.equal(b.written.length, 0);
    // b grows past the budget: b's request is refused, a's is not.
    h.data(b.conn, Buffer.from('y'.repeat(100 << 10)));
    assert.deepEqual(b.written, [`{"error": {"class": "GenericError", "desc": "${overBudgetText(limit)}"}}\n`]);
    h.data(a.conn, Buffer.from('"}'));
    assert.equal(a.written.length, 1);
    assert.match(a.written[0] as string, /^\{"return": \{\}, "id": "x{204800}"\}\n$/);
    // Small requests never count: a ping on a third connection is answered whatever the others hold.
    const c = fakeConnection({ blockWrites: false, id: 3 });
    h.data(c.conn, Buffer.from('{"execute":"guest-ping"}'));
    assert.deepEqual(c.written, ['{"return": {}}\n']);
  });

  it('charges a request under way until it is answered, and forgets a host that left', async () => {
    let finish: () => void = () => {};
    const limit = FREE_BYTES_PER_CONNECTION * 2;
    const h = await start(
      {
        'guest-get-time': () =>
          new Promise((resolve) => {
            finish = () => resolve(1);
          }),
      },
      { maxBufferedBytes: limit },
    );
    const a = fakeConnection({ blockWrites: false, id: 1 });
    const b = fakeConnection({ blockWrites: false, id: 2 });
    // a: a request of 160 KiB under way (96 KiB charged).
    h.data(a.conn, Buffer.from(`{"execute":"guest-get-time","id":"${'x'.repeat(160 << 10)}"}`));
    // b: 130 KiB unfinished (66 KiB charged): together past 128 KiB, so b's is refused.
    h.data(b.conn, Buffer.from(`{"execute":"guest-ping","id":"${'y'.repeat(130 << 10)}`));
    assert.equal(b.written.length, 1);
    assert.match(b.written[0] as string, /--max-buffered-request-bytes/);
    finish();
    await tick();
    assert.equal(a.written.length, 1);
    // Once a is answered, the same request from b fits.
    h.data(b.conn, Buffer.from(`{"execute":"guest-ping","id":"${'y'.repeat(130 << 10)}"}`));
    assert.equal(b.written.length, 2);
    assert.match(b.written[1] as string, /^\{"return": \{\}, "id": "y+"\}\n$/);
    // A host that leaves with an unfinished request gives its charge back.
    const c = fakeConnection({ blockWrites: false, id: 3 });
    h.data(c.conn, Buffer.from(`{"execute":"guest-ping","id":"${'z'.repeat(190 << 10)}`));
    h.closed(c.conn);
    h.data(b.conn, Buffer.from(`{"execute":"guest-ping","id":"${'y'.repeat(190 << 10)}"}`));
    assert.match(b.written[2] as string, /^\{"return": \{\}, "id": "y+"\}\n$/);
  });

  it('drops the replies of a host that left, but still runs what it asked for', async () => {
    const ran: string[] = [];
    const h = await start({ 'guest-get-time': () => Promise.resolve(ran.push('time')).then(() => 1) });
    const f = fakeConnection({ blockWrites: true });
    h.data(f.conn, Buffer.from('{"execute":"guest-ping"}{"execute":"guest-get-time"}'));
    h.closed(f.conn);
    f.release();
    for (let i = 0; i < 5; i++) await tick();
    assert.deepEqual(ran, ['time']);
    assert.deepEqual(f.written, ['{"return": {}}\n']);
  });
});
