// The single executable in Talos system-extension mode: --node-backend talos on a machined-socket
// double (test/doubles/talos-api.ts). The Talos back end and @grpc/grpc-js are lazily loaded
// chunks among the executable's SEA assets (scripts/sea/loader.cjs); this shows they load and work there (as the
// extension service runs it), not only from the checkout's node_modules.
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { TalosApiDouble } from '../doubles/talos-api.js';
import { makeTempDir } from '../peer/harness.js';
import { fillFixtures, qga, show, until } from '../talos/helpers.js';
import { buildSea, type ListeningProcess, startListening } from './build.js';

describe('the single executable as a Talos extension service (machined socket double)', { timeout: 120_000 }, () => {
  let double: TalosApiDouble;
  let agent: ListeningProcess | undefined;
  let socket: string;

  before(async () => {
    const sea = await buildSea();
    const dir = makeTempDir('guestlink-sea-talos-');
    const machined = path.join(dir, 'machine.sock');
    double = await TalosApiDouble.start({ kind: 'unix', path: machined });
    fillFixtures(double);
    socket = path.join(dir, 'qga.sock');
    mkdirSync(path.join(dir, 'state'));
    // The extension's arguments (deploy/talos-extension/guestlink.yaml) with a socket for the port.
    agent = await startListening(
      sea.exe,
      [
        'agent',
        '--method=unix-listen',
        `--path=${socket}`,
        `--statedir=${path.join(dir, 'state')}`,
        '--node-backend=talos',
        `--talos-socket=${machined}`,
        '-c',
        '/dev/null',
      ],
      socket,
      15_000,
      { env: {} },
    );
  });
  after(async () => {
    await agent?.stop();
    await double?.stop();
  });

  test('guest-get-osinfo comes from the Talos API', async () => {
    const r = await qga(socket, 'guest-get-osinfo');
    assert.ok('return' in r, `${show(r)}\n${agent?.stderr()}`);
    const o = r.return as Record<string, unknown>;
    assert.equal(o.id, 'talos');
    assert.equal(o['version-id'], double.state.tag);
  });

  test('guest-shutdown reboot reaches machined as Reboot with role os:operator, no reply', async () => {
    const before = double.callsTo('Reboot').length;
    const reply = await qga(socket, 'guest-shutdown', { mode: 'reboot' }, 1500);
    assert.deepEqual(reply, { return: null }, agent?.stderr());
    await until(() => double.callsTo('Reboot').length > before, 3000, 'Reboot at the double');
    assert.equal(double.callsTo('Reboot').at(-1)?.talosRole, 'os:operator');
  });
});
