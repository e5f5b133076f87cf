// Unit tests for the command policy: allow/block lists, guestlink's off-by-default commands, the frozen filter.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { COMMAND_NAMES, type CommandSpec, OPT_IN_GROUPS, QGA_COMMANDS } from '../protocol/qga/commands.js';
import { CommandPolicy } from './policy.js';

const FROZEN_OK = ['guest-sync-delimited', 'guest-sync', 'guest-ping', 'guest-info', 'guest-fsfreeze-status', 'guest-fsfreeze-thaw'];

describe('CommandPolicy', () => {
  it('by default enables everything except guest-exec*, guest-file-*, the account changes, guestlink-authenticate and guestlink-etcd-snapshot', () => {
    const p = new CommandPolicy({});
    const off = COMMAND_NAMES.filter((n) => !p.enabled(n, false));
    const ACCOUNT_CHANGES = ['guest-set-user-password', 'guest-ssh-add-authorized-keys', 'guest-ssh-remove-authorized-keys'];
    const optIn = (n: string) =>
      n.startsWith('guest-exec') ||
      n.startsWith('guest-file-') ||
      ACCOUNT_CHANGES.includes(n) ||
      n === 'guestlink-authenticate' ||
      n === 'guestlink-etcd-snapshot';
    assert.deepEqual(off.sort(), COMMAND_NAMES.filter(optIn).sort());
    assert.ok(p.enabled('guest-ping', false));
    assert.ok(p.enabled('guest-shutdown', false));
    assert.ok(p.enabled('guest-ssh-get-authorized-keys', false), 'reading public keys stays on, as in qemu-ga');
  });

  it('opt-in groups turn their off-by-default commands on, and only theirs', () => {
    const p = new CommandPolicy({ optInGroups: ['exec'] });
    assert.ok(p.enabled('guest-exec', false));
    assert.ok(p.enabled('guest-exec-status', false));
    assert.ok(!p.enabled('guest-file-open', false));
    assert.ok(!p.enabled('guest-set-user-password', false));
    const acc = new CommandPolicy({ optInGroups: ['accounts'] });
    assert.ok(acc.enabled('guest-set-user-password', false));
    assert.ok(acc.enabled('guest-ssh-add-authorized-keys', false));
    assert.ok(!acc.enabled('guest-exec', false));
  });

  it('-a naming an account command turns it on; naming guest-exec or guest-file-open does not (they need their allow-lists)', () => {
    const p = new CommandPolicy({ allowRpcs: ['guest-ping', 'guest-set-user-password', 'guest-exec', 'guest-file-open'] });
    assert.deepEqual(
      COMMAND_NAMES.filter((n) => p.enabled(n, false)),
      ['guest-ping', 'guest-set-user-password'],
    );
  });

  it('every off-by-default command belongs to a group some setting can turn on', () => {
    for (const name of COMMAND_NAMES) {
      const spec = QGA_COMMANDS[name] as CommandSpec;
      if (spec.offByDefault) assert.ok(Object.hasOwn(OPT_IN_GROUPS, spec.group), `${name}: group ${spec.group} has no opt-in`);
    }
  });

  it('an allow list disables all else; the block list wins over it', () => {
    const p = new CommandPolicy({ allowRpcs: ['guest-ping', 'guest-get-time'], blockRpcs: ['guest-get-time'] });
    assert.deepEqual(
      COMMAND_NAMES.filter((n) => p.enabled(n, false)),
      ['guest-ping'],
    );
  });

  it('an empty allow list means no allow list', () => {
    assert.ok(new CommandPolicy({ allowRpcs: [] }).enabled('guest-get-time', false));
  });

  it('commands the back end cannot serve are disabled', () => {
    const p = new CommandPolicy({ unsupported: ['guest-get-disks'] });
    assert.ok(!p.enabled('guest-get-disks', false));
    assert.ok(!p.configured('guest-get-disks'));
  });

  it("while frozen only qemu-ga's fixed six run, and guestlink's read-only etcd snapshot status", () => {
    const p = new CommandPolicy({});
    assert.deepEqual(COMMAND_NAMES.filter((n) => p.enabled(n, true)).sort(), [...FROZEN_OK, 'guestlink-etcd-snapshot-status'].sort());
    assert.ok(p.configured('guest-get-time'));
  });

  it('blocked stays blocked while frozen', () => {
    const p = new CommandPolicy({ blockRpcs: ['guest-ping'] });
    assert.ok(!p.enabled('guest-ping', true));
  });

  it("disabled errors are CommandNotFound in qemu-ga's words", () => {
    const p = new CommandPolicy({ blockRpcs: ['guest-ping'] });
    const blocked = p.disabledError('guest-ping', false);
    assert.equal(blocked.errorClass, 'CommandNotFound');
    assert.equal(blocked.desc, 'Command guest-ping has been disabled');
    assert.equal(p.disabledError('guest-get-time', true).desc, 'Command guest-get-time has been disabled: the agent is in frozen state');
  });
});
