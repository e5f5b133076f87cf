// Attack: whoever drives the agent channel makes themselves root by setting a password or adding an
// SSH key. These commands are off unless --allow-account-changes (or named in -a): over the wire they
// are CommandNotFound "has been disabled", guest-info shows them disabled, and nothing reaches chpasswd
// or an authorized_keys file. Reading public keys stays on (it changes nothing; qemu-ga's default).
import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { after, before, describe, test } from 'node:test';
import type { JsonObject } from '../../src/protocol/qga/json-value.js';
import { makeTempDir, type Peer, startGuestlink } from '../peer/harness.js';
import { qga } from '../talos/helpers.js';

const CHANGES: Record<string, JsonObject> = {
  'guest-set-user-password': { username: 'root', password: Buffer.from('owned').toString('base64'), crypted: false },
  'guest-ssh-add-authorized-keys': { username: 'root', keys: ['ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOwned attacker'] },
  'guest-ssh-remove-authorized-keys': { username: 'root', keys: ['ssh-ed25519 AAAA whoever'] },
};

describe('account commands are off by default', () => {
  const dir = makeTempDir('guestlink-sec-accounts-');
  let agent: Peer;
  before(async () => {
    // No -b: the default configuration, as a node would run it (the host client syncs with guest-sync-delimited first).
    agent = await startGuestlink(dir, []);
  });
  after(async () => {
    await agent?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  for (const [name, args] of Object.entries(CHANGES)) {
    test(`${name} with valid arguments is disabled`, async () => {
      assert.deepEqual(await qga(agent.socket, name, args), {
        error: { class: 'CommandNotFound', desc: `Command ${name} has been disabled` },
      });
    });
  }

  test('guest-info lists them disabled; guest-ssh-get-authorized-keys enabled', async () => {
    const info = (await qga(agent.socket, 'guest-info')) as { return: { supported_commands: { name: string; enabled: boolean }[] } };
    const enabled = new Map(info.return.supported_commands.map((c) => [c.name, c.enabled]));
    for (const name of Object.keys(CHANGES)) assert.equal(enabled.get(name), false, name);
    assert.equal(enabled.get('guest-ssh-get-authorized-keys'), true);
  });

  test('-a alone enables only what it names (checked with missing arguments: nothing is changed)', async () => {
    const d = makeTempDir('guestlink-sec-accounts-a-');
    const a = await startGuestlink(d, ['-a', 'guest-sync-delimited,guest-ping,guest-set-user-password']);
    try {
      assert.deepEqual(await qga(a.socket, 'guest-set-user-password', {}), {
        error: { class: 'GenericError', desc: "Parameter 'username' is missing" },
      });
      assert.deepEqual(await qga(a.socket, 'guest-ssh-add-authorized-keys', {}), {
        error: { class: 'CommandNotFound', desc: 'Command guest-ssh-add-authorized-keys has been disabled' },
      });
    } finally {
      await a.stop();
      rmSync(d, { recursive: true, force: true });
    }
  });
});
