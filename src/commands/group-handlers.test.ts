// The command table binds the handlers. At compile time: each `@ts-expect-error` below fails the build
// ("Unused '@ts-expect-error' directive") if the mistake on the line under it ever compiles, so a
// misspelt, missing or foreign key in a group's handler map cannot slip through. At run time: the
// agent's full set names every command of the table and nothing else.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { testHandlers } from '../../test/doubles/handlers.js';
import { COMMAND_NAMES } from '../protocol/qga/commands.js';
import type { GroupHandlers, Handler } from './context.js';

const h: Handler = () => ({});

/** The right map for the time group: the baseline the mistakes below differ from. */
export const right = { 'guest-get-time': h, 'guest-set-time': h, 'guest-get-timezone': h } satisfies GroupHandlers<'time'>;
// @ts-expect-error a misspelt key is not a command of the group
export const misspelt = { 'guest-get-tme': h, 'guest-set-time': h, 'guest-get-timezone': h } satisfies GroupHandlers<'time'>;
// @ts-expect-error a command of the group without a handler
export const missing = { 'guest-get-time': h, 'guest-set-time': h } satisfies GroupHandlers<'time'>;
export const foreign = {
  'guest-get-time': h,
  'guest-set-time': h,
  'guest-get-timezone': h,
  // @ts-expect-error a command of another group
  'guest-ping': h,
} satisfies GroupHandlers<'time'>;

test('the agent binds a handler to every command of the table, and to nothing else', () => {
  const handlers = testHandlers();
  assert.deepEqual(Object.keys(handlers).sort(), [...COMMAND_NAMES].sort());
  for (const name of COMMAND_NAMES) assert.equal(typeof handlers[name], 'function', name);
  assert.deepEqual(Object.keys(right).sort(), ['guest-get-time', 'guest-get-timezone', 'guest-set-time']);
});
