// serve(): order of replies, the promise-free path for handlers that return at once, and flow control
// (pause at MAX_PENDING_REQUESTS, resume when drained), on a fake transport whose writes the test releases.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import pino from 'pino';
import { MemoryAgentState } from '../../test/doubles/memory-state.js';
import { TEST_SETTINGS } from '../../test/doubles/settings.js';
import type { Handler } from '../commands/context.js';
import { FileTable } from '../commands/file-table.js';
import { makeHandlers } from '../commands/index.js';
import { Dispatcher } from '../dispatch/dispatcher.js';
import { CommandPolicy } from '../dispatch/policy.js';
import { DryRunPower } from '../node/dry-run/power.js';
import type { NodeBackend } from '../node/interfaces.js';
import type { Connection, ConnectionHandlers } from '../transport/types.js';
import { MAX_PENDING_REQUESTS, serve } from './serve.js';

const handlers = makeHandlers({ files: new FileTable() });

/** A connection whose writes complete at once, or wait until the test calls release() (a host that does not read). */
function fakeConnection(opts: { blockWrites: boolean }) {
  const written: string[] = [];
  const blocked: (() => void)[] = [];
  const events: string[] = [];
  const conn: Connection = {
    id: 1,
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

async function start(extra: Record<string, Handler> = {}) {
  const log = pino({ level: 'silent' });
  const dispatcher = new Dispatcher({
    version: '9.9.9',
    handlers: { ...handlers, ...extra },
    policy: new CommandPolicy({}),
    node: { name: 'fake', power: new DryRunPower(), unsupportedCommands: [] } as unknown as NodeBackend,
    state: new MemoryAgentState(),
    settings: TEST_SETTINGS,
    log,
    audit: log,
  });
  let h: ConnectionHandlers | undefined;
  await serve({ name: 'fake', start: async (x) => void (h = x), close: async () => {} }, dispatcher, log);
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

  it(`pauses a host that does not read at ${MAX_PENDING_REQUESTS} pending requests and resumes it once they are answered`, async () => {
    const h = await start();
    const f = fakeConnection({ blockWrites: true });
    // One request per chunk, as a trickling host sends them: the pause must come at the 64th.
    for (let i = 1; i <= MAX_PENDING_REQUESTS - 1; i++) h.data(f.conn, Buffer.from(`{"execute":"guest-sync","arguments":{"id":${i}}}`));
    assert.deepEqual(f.events, []);
    h.data(f.conn, Buffer.from(`{"execute":"guest-sync","arguments":{"id":${MAX_PENDING_REQUESTS}}}`));
    assert.deepEqual(f.events, ['pause']);
    // Only the first reply was handed over; the rest wait for it.
    assert.equal(f.written.length, 1);
    f.release();
    for (let i = 0; i < 10 && f.written.length < MAX_PENDING_REQUESTS; i++) await tick();
    assert.deepEqual(
      f.written,
      Array.from({ length: MAX_PENDING_REQUESTS }, (_, i) => `{"return": ${i + 1}}\n`),
    );
    assert.deepEqual(f.events, ['pause', 'resume']);
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
