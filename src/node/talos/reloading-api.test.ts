import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { TalosClient, TalosTarget } from './client.js';
import { ReloadingTalosApi } from './reloading-api.js';

const target = (n: string): TalosTarget => ({ kind: 'socket', path: n, role: 'os:operator' });

test('reconnects when the file changes, keeps the old client while the new file is unreadable', async (t) => {
  t.mock.timers.enable({ apis: ['setTimeout'] });
  let stamp = 'a';
  let broken = false;
  const made: string[] = [];
  const closed: string[] = [];
  const api = new ReloadingTalosApi(
    target('first'),
    {
      stamp: () => stamp,
      target: () => {
        if (broken) throw new Error('half-written');
        return target(`gen-${stamp}`);
      },
    },
    { timeoutMs: 10 },
    (t) => {
      const name = t.kind === 'socket' ? t.path : '';
      made.push(name);
      return {
        list: async () => [{ namespace: name, type: '', id: '', yamlSpec: '' }],
        close: () => closed.push(name),
      } as unknown as TalosClient;
    },
  );
  const via = async () => (await api.list('n', 't'))[0]?.namespace;
  assert.equal(await via(), 'first');
  assert.equal(await via(), 'first', 'same stamp, same client');
  stamp = 'b';
  broken = true;
  assert.equal(await via(), 'first', 'unreadable: keep the working client');
  broken = false;
  assert.equal(await via(), 'gen-b');
  assert.deepEqual(made, ['first', 'gen-b']);
  assert.equal(api.generation, 2);
  // The old channel's calls get their deadline (10 ms) and a second more, then it closes.
  t.mock.timers.tick(1009);
  assert.deepEqual(closed, [], 'open while its calls may still run');
  t.mock.timers.tick(1);
  assert.deepEqual(closed, ['first'], 'the old channel closes after its calls had their deadline');
});
