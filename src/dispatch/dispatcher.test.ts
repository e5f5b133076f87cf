// Unit tests for the dispatcher: lookup, policy, frozen filter, argument check, handler errors,
// delimiters, no-reply commands and the audit trail, with a fake back end and dry-run power.
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { describe, it } from 'node:test';
import pino from 'pino';
import { MemoryAgentState } from '../../test/doubles/memory-state.js';
import { TEST_SETTINGS } from '../../test/doubles/settings.js';
import type { Handler, Session } from '../commands/context.js';
import { FileTable } from '../commands/file-table.js';
import { makeHandlers } from '../commands/index.js';
import { DryRunPower } from '../node/dry-run/power.js';
import type { NodeBackend } from '../node/interfaces.js';
import { COMMAND_NAMES } from '../protocol/qga/commands.js';
import { genericError } from '../protocol/qga/errors.js';
import { Dispatcher } from './dispatcher.js';
import { CommandPolicy, type PolicyOptions } from './policy.js';

const realHandlers = makeHandlers({ files: new FileTable() });

function setup(opts: { policy?: PolicyOptions; handlers?: Record<string, Handler> } = {}) {
  const lines: Record<string, unknown>[] = [];
  const sink = new Writable({
    write(chunk, _enc, cb) {
      lines.push(JSON.parse(String(chunk)));
      cb();
    },
  });
  const log = pino({ level: 'info' }, sink);
  const power = new DryRunPower();
  const node = { name: 'fake', power, unsupportedCommands: [] } as unknown as NodeBackend;
  const state = new MemoryAgentState();
  const d = new Dispatcher({
    version: '9.9.9',
    handlers: { ...realHandlers, ...opts.handlers },
    policy: new CommandPolicy(opts.policy ?? {}),
    node,
    state,
    settings: TEST_SETTINGS,
    log,
    audit: log.child({ audit: true }),
  });
  const session: Session = { id: 1, delimitNextReply: false };
  const ask = async (value: unknown) => {
    const r = await d.dispatch({ value: value as never }, session);
    return r === null ? null : r.toString('latin1');
  };
  return { d, ask, session, state, power, lines };
}

describe('Dispatcher', () => {
  it('answers guest-ping and echoes the id', async () => {
    const { ask } = setup();
    assert.equal(await ask({ execute: 'guest-ping' }), '{"return": {}}\n');
    assert.equal(await ask({ execute: 'guest-ping', id: 'abc' }), '{"return": {}, "id": "abc"}\n');
  });

  it('turns a reader error into a GenericError reply', async () => {
    const { d, session } = setup();
    const r = await d.dispatch({ error: "JSON parse error, stray '\uFFFD'" }, session);
    assert.equal(r?.toString(), `{"error": {"class": "GenericError", "desc": "JSON parse error, stray '\\uFFFD'"}}\n`);
  });

  it('envelope errors echo the id', async () => {
    const { ask } = setup();
    assert.equal(
      await ask({ execute: 'guest-ping', foo: 1, id: 7 }),
      `{"id": 7, "error": {"class": "GenericError", "desc": "QMP input member 'foo' is unexpected"}}\n`,
    );
  });

  it('unknown and disabled commands are CommandNotFound', async () => {
    const { ask } = setup({ policy: { blockRpcs: ['guest-get-time'] } });
    assert.equal(
      await ask({ execute: 'guest-nope' }),
      '{"error": {"class": "CommandNotFound", "desc": "The command guest-nope has not been found"}}\n',
    );
    assert.equal(
      await ask({ execute: 'guest-get-time' }),
      '{"error": {"class": "CommandNotFound", "desc": "Command guest-get-time has been disabled"}}\n',
    );
  });

  it('the disabled check comes before the argument check', async () => {
    const { ask } = setup({ policy: { blockRpcs: ['guest-sync'] } });
    assert.match((await ask({ execute: 'guest-sync', arguments: { bad: 1 } })) ?? '', /has been disabled/);
  });

  it('while frozen only the fixed few run', async () => {
    const { ask, state } = setup();
    state.frozen = true;
    assert.equal(await ask({ execute: 'guest-ping' }), '{"return": {}}\n');
    assert.equal(
      await ask({ execute: 'guest-get-time' }),
      '{"error": {"class": "CommandNotFound", "desc": "Command guest-get-time has been disabled: the agent is in frozen state"}}\n',
    );
  });

  it('bad arguments never reach the handler', async () => {
    let called = 0;
    const { ask } = setup({ handlers: { 'guest-sync': () => ++called } });
    assert.equal(
      await ask({ execute: 'guest-sync', arguments: { id: 'x' } }),
      `{"error": {"class": "GenericError", "desc": "Invalid parameter type for 'id', expected: integer"}}\n`,
    );
    assert.equal(await ask({ execute: 'guest-sync' }), `{"error": {"class": "GenericError", "desc": "Parameter 'id' is missing"}}\n`);
    assert.equal(called, 0);
  });

  it('keeps 64-bit ids exact', async () => {
    const { ask } = setup();
    assert.equal(await ask({ execute: 'guest-sync', arguments: { id: 9223372036854775807n } }), '{"return": 9223372036854775807}\n');
  });

  it('guest-sync-delimited prefixes only its own reply with 0xFF', async () => {
    const { ask } = setup();
    assert.equal(await ask({ execute: 'guest-sync-delimited', arguments: { id: 3 } }), '\xff{"return": 3}\n');
    assert.equal(await ask({ execute: 'guest-ping' }), '{"return": {}}\n');
  });

  it('guest-shutdown sends no reply on success, reaches the power back end and is audited', async () => {
    const { ask, power, lines } = setup();
    assert.equal(await ask({ execute: 'guest-shutdown', arguments: { mode: 'reboot' } }), null);
    assert.equal(power.requests.length, 1);
    assert.equal(power.requests[0]?.mode, 'reboot');
    const audit = lines.find((l) => l.audit === true);
    assert.equal(audit?.command, 'guest-shutdown');
    assert.equal(audit?.outcome, 'ok');
  });

  it('guest-shutdown failing does reply, with the error', async () => {
    const { ask } = setup();
    assert.match((await ask({ execute: 'guest-shutdown', arguments: { mode: 'bogus' } })) ?? '', /^\{"error": \{"class": "GenericError"/);
  });

  it('a QgaError from a handler is sent as is; audit records the failure with secrets redacted', async () => {
    const { ask, lines } = setup({
      handlers: {
        'guest-set-user-password': () => {
          throw genericError('nope', 'TEST');
        },
      },
    });
    const r = await ask({ execute: 'guest-set-user-password', arguments: { username: 'u', password: 'c2VjcmV0', crypted: false } });
    assert.equal(r, '{"error": {"class": "GenericError", "desc": "nope"}}\n');
    const audit = lines.find((l) => l.audit === true) as { args: Record<string, unknown>; outcome: string };
    assert.equal(audit.outcome, 'error');
    assert.equal(audit.args.password, '[redacted]');
    assert.ok(!JSON.stringify(lines).includes('c2VjcmV0'));
  });

  it('any other thrown error becomes a GenericError with its message and is logged', async () => {
    const { ask, lines } = setup({
      handlers: {
        'guest-get-time': () => {
          throw new TypeError('boom');
        },
      },
    });
    assert.equal(await ask({ execute: 'guest-get-time' }), '{"error": {"class": "GenericError", "desc": "boom"}}\n');
    assert.ok(lines.some((l) => l.msg === 'command failed unexpectedly'));
  });

  it('a command in the table without a handler is unsupported', async () => {
    const { ask } = setup({ handlers: { 'guest-get-time': undefined as unknown as Handler } });
    assert.equal(
      await ask({ execute: 'guest-get-time' }),
      '{"error": {"class": "GenericError", "desc": "this feature or command is not currently supported"}}\n',
    );
  });

  it('info() lists the whole table with enabled state and success-response', () => {
    const { d } = setup({ policy: { blockRpcs: ['guest-ping'] } });
    const info = d.info();
    assert.equal(info.version, '9.9.9');
    assert.deepEqual(
      info.commands.map((c) => c.name),
      COMMAND_NAMES,
    );
    assert.equal(info.commands.find((c) => c.name === 'guest-ping')?.enabled, false);
    assert.equal(info.commands.find((c) => c.name === 'guest-shutdown')?.successResponse, false);
    assert.equal(info.commands.find((c) => c.name === 'guest-sync')?.successResponse, true);
  });
});
