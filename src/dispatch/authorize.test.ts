// The dispatcher's authorize step: asked only for sessions with a principal (the management
// endpoint), with the verb the command table's `mutating` flag gives; a known answer keeps the
// reply synchronous; a refusal is the QGA error it carries; audit lines name the user and groups.
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { test } from 'node:test';
import pino from 'pino';
import { testHandlers } from '../../test/doubles/handlers.js';
import { MemoryAgentState } from '../../test/doubles/memory-state.js';
import { TEST_SETTINGS } from '../../test/doubles/settings.js';
import type { Session } from '../commands/context.js';
import { DryRunPower } from '../node/dry-run/power.js';
import type { NodeBackend } from '../node/interfaces.js';
import { genericError } from '../protocol/qga/errors.js';
import type { AccessRequest, Authorize } from './authorize.js';
import { Dispatcher } from './dispatcher.js';
import { CommandPolicy } from './policy.js';

function setup(authorize: Authorize) {
  const lines: Record<string, any>[] = [];
  const log = pino(
    { level: 'info' },
    new Writable({
      write(chunk, _e, cb) {
        lines.push(JSON.parse(String(chunk)));
        cb();
      },
    }),
  );
  const power = new DryRunPower();
  const node = { name: 'fake', power, unsupportedCommands: [] } as unknown as NodeBackend;
  const d = new Dispatcher({
    version: '9.9.9',
    handlers: testHandlers(),
    policy: new CommandPolicy({}),
    node,
    state: new MemoryAgentState(),
    settings: TEST_SETTINGS,
    log,
    audit: log.child({ audit: true }),
    authorize,
  });
  return { d, lines, power };
}

const endpoint = (): Session => ({
  id: 7,
  delimitNextReply: false,
  principal: { user: 'jane', groups: ['sre'], authenticated: 'certificate' },
});

test('the hypervisor channel (no principal) is never asked about', () => {
  const asked: AccessRequest[] = [];
  const { d } = setup((_s, r) => {
    asked.push(r);
    return genericError('no');
  });
  const r = d.dispatch({ value: { execute: 'guest-ping' } }, { id: 1, delimitNextReply: false });
  assert.equal(r?.toString(), '{"return": {}}\n');
  assert.deepEqual(asked, []);
});

test('allowed synchronously: the reply is synchronous too; verbs follow the mutating flag', async () => {
  const asked: AccessRequest[] = [];
  const { d, lines, power } = setup((_s, r) => {
    asked.push(r);
    return undefined;
  });
  const s = endpoint();
  const r = d.dispatch({ value: { execute: 'guest-ping' } }, s);
  assert.ok(Buffer.isBuffer(r), 'no promise on the cached path');
  assert.equal(await d.dispatch({ value: { execute: 'guest-shutdown', arguments: { mode: 'halt' } } }, s), null);
  assert.deepEqual(
    asked.map((a) => [a.command, a.verb]),
    [
      ['guest-ping', 'get'],
      ['guest-shutdown', 'update'],
    ],
  );
  assert.deepEqual(
    power.requests.map((p) => p.mode),
    ['halt'],
  );
  const audit = lines.find((l) => l.audit && l.command === 'guest-shutdown');
  assert.deepEqual([audit?.user, audit?.groups, audit?.outcome], ['jane', ['sre'], 'ok']);
});

test('refused (synchronously or later): the QGA error is the reply, and the handler never runs', async () => {
  for (const refuse of [
    () => genericError('nope: nodes/guestlink update'),
    () => Promise.resolve(genericError('later: nodes/guestlink update')),
  ]) {
    const { d, power } = setup(refuse);
    const r = await d.dispatch({ value: { execute: 'guest-shutdown', id: 3 } }, endpoint());
    assert.match(
      r?.toString() ?? '',
      /^\{"id": 3, "error": \{"class": "GenericError", "desc": "(nope|later): nodes\/guestlink update"\}\}\n$/,
    );
    assert.deepEqual(power.requests, []);
  }
});

test('allowed after asking: the command runs once the answer comes', async () => {
  const { d } = setup(() => new Promise((r) => setTimeout(() => r(undefined), 5)));
  const r = d.dispatch({ value: { execute: 'guest-sync', arguments: { id: 42 } } }, endpoint());
  assert.ok(r instanceof Promise);
  assert.equal((await r)?.toString(), '{"return": 42}\n');
});

test('guestlink-authenticate on the hypervisor channel says what it is for', () => {
  const { d } = setup(() => undefined);
  const policyOn = new Dispatcher({ ...(d as any).deps, policy: new CommandPolicy({ optInGroups: ['authenticate'] }) });
  const r = policyOn.dispatch(
    { value: { execute: 'guestlink-authenticate', arguments: { token: 't' } } },
    { id: 1, delimitNextReply: false },
  );
  assert.match(r?.toString() ?? '', /for management-endpoint connections/);
  // Off by default: disabled like guest-exec.
  assert.match(
    d
      .dispatch({ value: { execute: 'guestlink-authenticate', arguments: { token: 't' } } }, { id: 1, delimitNextReply: false })
      ?.toString() ?? '',
    /has been disabled/,
  );
});
