// The freeze commands' logic against a fake Storage, a fake state and a recording hook: order of
// hook and ioctls, reverse mount order, rollback on failure, freeze-list, the watchdog, restart resume.
import assert from 'node:assert/strict';
import { describe, mock, test } from 'node:test';
import type { Logger } from 'pino';
import { MemoryAgentState } from '../../test/doubles/memory-state.js';
import type { NodeBackend, Storage, TrimResult } from '../node/interfaces.js';
import { genericError, type QgaError } from '../protocol/qga/errors.js';
import type { CommandContext, Handler } from './context.js';
import { createFreezeHandlers, FreezeController, WATCHDOG_DEADLINE_KEY } from './freeze.js';

class FakeStorage implements Storage {
  frozen = new Set<string>();
  failOn?: string;
  skip = new Set<string>();
  constructor(
    readonly mounts: string[],
    readonly events: string[],
  ) {}
  async filesystems() {
    return [];
  }
  async disks() {
    return [];
  }
  async freezableMounts() {
    return [...this.mounts];
  }
  async freeze(mp: string): Promise<boolean> {
    this.events.push(`freeze ${mp}`);
    if (mp === this.failOn) throw genericError(`failed to freeze ${mp}: Operation not permitted`);
    if (this.skip.has(mp)) return false;
    this.frozen.add(mp);
    return true;
  }
  async thaw(mp: string): Promise<boolean> {
    this.events.push(`thaw ${mp}`);
    return this.frozen.delete(mp);
  }
  async trim(): Promise<TrimResult[]> {
    return [];
  }
}

/** Records state changes among the storage events, to check their order. */
class FakeState extends MemoryAgentState {
  constructor(readonly events: string[]) {
    super();
  }
  override async setFrozen(frozen: boolean, details: Record<string, unknown> = {}) {
    this.events.push(`state ${frozen ? 'frozen' : 'thawed'}`);
    await super.setFrozen(frozen, details);
  }
}

function setup(opts: { mounts?: string[]; hook?: string; timeout?: number; hookFails?: 'freeze' | 'thaw'; now?: () => number } = {}) {
  const events: string[] = [];
  const warnings: unknown[][] = [];
  const storage = new FakeStorage(opts.mounts ?? ['/', '/boot', '/var'], events);
  const state = new FakeState(events);
  const log = {
    info: () => {},
    debug: () => {},
    error: () => {},
    warn: (...a: unknown[]) => warnings.push(a),
  } as unknown as Logger;
  const ctx = {
    node: { storage } as unknown as NodeBackend,
    state,
    settings: { allowExec: [], allowFileRead: [], allowFileWrite: [], fsfreezeHook: opts.hook, fsfreezeTimeout: opts.timeout ?? 0 },
    log,
  } as unknown as CommandContext;
  const controller = new FreezeController({
    runHook: async (hook, arg) => {
      events.push(`hook ${arg}`);
      assert.equal(hook, opts.hook);
      if (opts.hookFails === arg) throw genericError('fsfreeze hook has failed with status 1');
    },
    ...(opts.now ? { now: opts.now } : {}),
  });
  const h: Readonly<Record<string, Handler>> = createFreezeHandlers(controller);
  const call = async (name: string, args: Record<string, unknown> = {}) => h[name]?.(args, ctx);
  return { events, warnings, storage, state, ctx, controller, call };
}

describe('guest-fsfreeze-*', () => {
  test('freeze: hook first, frozen marker before the first FIFREEZE, reverse mount order, count', async () => {
    const s = setup({ hook: '/etc/qemu/fsfreeze-hook' });
    assert.equal(await s.call('guest-fsfreeze-status'), 'thawed');
    assert.equal(await s.call('guest-fsfreeze-freeze'), 3);
    assert.deepEqual(s.events, ['hook freeze', 'state frozen', 'freeze /var', 'freeze /boot', 'freeze /']);
    assert.equal(await s.call('guest-fsfreeze-status'), 'frozen');
  });

  test('thaw: every mount in mount order, state cleared, then the thaw hook; count of really thawed', async () => {
    const s = setup({ hook: '/h' });
    s.storage.skip.add('/boot'); // EOPNOTSUPP: not frozen, not counted
    assert.equal(await s.call('guest-fsfreeze-freeze'), 2);
    s.events.length = 0;
    assert.equal(await s.call('guest-fsfreeze-thaw'), 2);
    assert.deepEqual(s.events, ['thaw /', 'thaw /boot', 'thaw /var', 'state thawed', 'hook thaw']);
    assert.equal(await s.call('guest-fsfreeze-status'), 'thawed');
    // a second thaw finds nothing frozen
    assert.equal(await s.call('guest-fsfreeze-thaw'), 0);
  });

  test('no hook configured: none run', async () => {
    const s = setup();
    assert.equal(await s.call('guest-fsfreeze-freeze'), 3);
    assert.ok(!s.events.some((e) => e.startsWith('hook')));
  });

  test('a failing freeze hook fails the freeze before anything is frozen', async () => {
    const s = setup({ hook: '/h', hookFails: 'freeze' });
    await assert.rejects(s.call('guest-fsfreeze-freeze'), (e: QgaError) => e.desc === 'fsfreeze hook has failed with status 1');
    assert.deepEqual(s.events, ['hook freeze']);
    assert.equal(s.state.frozen, false);
  });

  test('failure mid-way: what was frozen is thawed, state cleared, thaw hook run, the error reported', async () => {
    const s = setup({ hook: '/h' });
    s.storage.failOn = '/boot';
    await assert.rejects(s.call('guest-fsfreeze-freeze'), (e: QgaError) => e.desc === 'failed to freeze /boot: Operation not permitted');
    assert.deepEqual(s.events, ['hook freeze', 'state frozen', 'freeze /var', 'freeze /boot', 'thaw /var', 'state thawed', 'hook thaw']);
    assert.equal(s.storage.frozen.size, 0);
    assert.equal(await s.call('guest-fsfreeze-status'), 'thawed');
  });

  test('freeze while frozen is refused with qemu-ga\'s "disabled" error', async () => {
    const s = setup();
    await s.call('guest-fsfreeze-freeze');
    await assert.rejects(
      s.call('guest-fsfreeze-freeze'),
      (e: QgaError) =>
        e.errorClass === 'CommandNotFound' && e.desc === 'Command guest-fsfreeze-freeze has been disabled: the agent is in frozen state',
    );
  });

  test('freeze-list: only the listed mount points, still in reverse mount order', async () => {
    const s = setup();
    assert.equal(await s.call('guest-fsfreeze-freeze-list', { mountpoints: ['/', '/var'] }), 2);
    assert.deepEqual(s.events, ['state frozen', 'freeze /var', 'freeze /']);
  });

  test('freeze-list with only unknown mount points: 0 and thawed, as qemu-ga 7.2 answers', async () => {
    const s = setup({ hook: '/h' });
    assert.equal(await s.call('guest-fsfreeze-freeze-list', { mountpoints: ['/nonexistent'] }), 0);
    assert.equal(s.state.frozen, false);
    assert.deepEqual(s.events, ['hook freeze', 'state frozen', 'state thawed', 'hook thaw']);
  });

  test('thaw hook failure is reported after the filesystems are thawed and the state cleared', async () => {
    const s = setup({ hook: '/h', hookFails: 'thaw' });
    await s.call('guest-fsfreeze-freeze');
    await assert.rejects(s.call('guest-fsfreeze-thaw'), /fsfreeze hook has failed with status 1/);
    assert.equal(s.state.frozen, false);
    assert.equal(s.storage.frozen.size, 0);
  });
});

describe('fsfreeze watchdog', () => {
  test('thaws by itself after the timeout, runs the thaw hook, clears the state and warns; a later thaw returns 0', async (t) => {
    t.mock.timers.enable({ apis: ['setTimeout', 'Date'], now: 1_000_000 });
    const s = setup({ hook: '/h', timeout: 30, now: () => Date.now() });
    assert.equal(await s.call('guest-fsfreeze-freeze'), 3);
    assert.equal(s.state.details?.[WATCHDOG_DEADLINE_KEY], 1_000_000 + 30_000);
    assert.equal(s.controller.watchdogDeadline, 1_030_000);
    s.events.length = 0;
    t.mock.timers.tick(29_999);
    await flush();
    assert.equal(s.state.frozen, true, 'not before the deadline');
    t.mock.timers.tick(1);
    await flush();
    assert.equal(s.state.frozen, false);
    assert.deepEqual(s.events, ['thaw /', 'thaw /boot', 'thaw /var', 'state thawed', 'hook thaw']);
    assert.equal(s.warnings.length, 1);
    assert.match(String(s.warnings[0]?.[1]), /watchdog/);
    assert.equal(await s.call('guest-fsfreeze-thaw'), 0);
  });

  test('a host thaw cancels the watchdog', async (t) => {
    t.mock.timers.enable({ apis: ['setTimeout', 'Date'], now: 5_000 });
    const s = setup({ timeout: 10, now: () => Date.now() });
    await s.call('guest-fsfreeze-freeze');
    assert.equal(await s.call('guest-fsfreeze-thaw'), 3);
    assert.equal(s.controller.watchdogDeadline, undefined);
    s.events.length = 0;
    t.mock.timers.tick(20_000);
    await flush();
    assert.deepEqual(s.events, []);
    assert.equal(s.warnings.length, 0);
  });

  test('timeout 0: no watchdog', async () => {
    const s = setup({ timeout: 0 });
    await s.call('guest-fsfreeze-freeze');
    assert.equal(s.controller.watchdogDeadline, undefined);
    assert.deepEqual(s.state.details, {});
    s.controller.stop();
  });

  test('the real timer is unref()-ed, set for the 1 s deadline, and fires', async () => {
    const s = setup({ timeout: 1 });
    const spy = mock.method(globalThis, 'setTimeout');
    await s.call('guest-fsfreeze-freeze');
    const call = spy.mock.calls.at(-1);
    spy.mock.restore();
    const timer = call?.result as NodeJS.Timeout;
    assert.equal(timer.hasRef(), false, 'the watchdog must not keep the process alive');
    // The delay handed to the real timer is the deadline (the mock-timer tests above check when it fires).
    assert.ok((call?.arguments[1] as number) > 0 && (call?.arguments[1] as number) <= 1000, `delay ${call?.arguments[1]}`);
    assert.equal(s.state.frozen, true);
    for (let i = 0; i < 600 && s.state.frozen; i++) await new Promise((r) => setTimeout(r, 50));
    assert.equal(s.state.frozen, false, 'the real timer fired');
    assert.equal(s.warnings.length, 1);
  });

  test('restart while frozen: resume re-arms at the saved deadline', async (t) => {
    t.mock.timers.enable({ apis: ['setTimeout', 'Date'], now: 100_000 });
    const s = setup({ hook: '/h', timeout: 60, now: () => Date.now() });
    // what the previous process left: frozen marker with its deadline
    s.state.frozen = true;
    s.state.details = { [WATCHDOG_DEADLINE_KEY]: 110_000 };
    s.storage.frozen = new Set(['/', '/var']);
    assert.equal(await s.controller.resume(s.ctx), 110_000);
    t.mock.timers.tick(10_000);
    await flush();
    assert.equal(s.state.frozen, false);
    assert.deepEqual(s.events, ['thaw /', 'thaw /boot', 'thaw /var', 'state thawed', 'hook thaw']);
  });

  test('restart while frozen past the deadline thaws at once; no saved deadline uses the timeout from now', async (t) => {
    t.mock.timers.enable({ apis: ['setTimeout', 'Date'], now: 200_000 });
    const s = setup({ timeout: 5, now: () => Date.now() });
    s.state.frozen = true;
    s.state.details = { [WATCHDOG_DEADLINE_KEY]: 1 };
    await s.controller.resume(s.ctx);
    t.mock.timers.tick(0);
    await flush();
    assert.equal(s.state.frozen, false);

    const s2 = setup({ timeout: 5, now: () => Date.now() });
    s2.state.frozen = true;
    s2.state.details = { since: 'x' };
    assert.equal(await s2.controller.resume(s2.ctx), 205_000);
    s2.controller.stop();

    const s3 = setup({ timeout: 0 });
    s3.state.frozen = true;
    assert.equal(await s3.controller.resume(s3.ctx), undefined, 'no timeout, no deadline: frozen until the host thaws');
  });
});

/** Lets queued promise callbacks run (the watchdog's thaw is async). */
async function flush() {
  for (let i = 0; i < 20; i++) await new Promise<void>((r) => setImmediate(r));
}
