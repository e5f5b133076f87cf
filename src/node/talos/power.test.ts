import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { TalosApi } from './api.js';
import { METHODS } from './messages.js';
import { TalosPower } from './power.js';

function recorder(): { api: TalosApi; calls: [string, string][] } {
  const calls: [string, string][] = [];
  const api: TalosApi = {
    unary: async (m, req) => {
      calls.push([m, req.toString('hex')]);
      return [];
    },
    get: async () => undefined,
    list: async () => [],
  };
  return { api, calls };
}

test('powerdown and halt -> Shutdown{force:false}; reboot -> Reboot{mode}', async () => {
  const { api, calls } = recorder();
  const p = new TalosPower(api, 'default');
  await p.shutdown('powerdown');
  await p.shutdown('halt');
  await p.shutdown('reboot');
  await new TalosPower(api, 'powercycle').shutdown('reboot');
  assert.deepEqual(calls, [
    [METHODS.shutdown, ''],
    [METHODS.shutdown, ''],
    [METHODS.reboot, ''],
    [METHODS.reboot, '0801'],
  ]);
});

test('Talos drains by itself on Shutdown{force:false}, never on Reboot', () => {
  const p = new TalosPower(recorder().api);
  assert.equal(p.drainsItself('powerdown'), true);
  assert.equal(p.drainsItself('halt'), true);
  assert.equal(p.drainsItself('reboot'), false);
});

test('suspend is refused with a clear unsupported error and no call', async () => {
  const { api, calls } = recorder();
  await assert.rejects(new TalosPower(api).suspend('ram'), /not currently supported: Talos has no suspend/);
  assert.equal(calls.length, 0);
});
