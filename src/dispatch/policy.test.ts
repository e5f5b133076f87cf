// Unit tests for the command policy: allow/block lists, guestlink's off-by-default commands, the frozen filter.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { COMMAND_NAMES } from '../protocol/qga/commands.js';
import { CommandPolicy } from './policy.js';

const FROZEN_OK = ['guest-sync-delimited', 'guest-sync', 'guest-ping', 'guest-info', 'guest-fsfreeze-status', 'guest-fsfreeze-thaw'];

describe('CommandPolicy', () => {
  it('by default enables everything except guest-exec*, guest-file-* and guestlink-etcd-snapshot', () => {
    const p = new CommandPolicy({});
    const off = COMMAND_NAMES.filter((n) => !p.enabled(n, false));
    assert.deepEqual(
      off.sort(),
      COMMAND_NAMES.filter((n) => n.startsWith('guest-exec') || n.startsWith('guest-file-') || n === 'guestlink-etcd-snapshot').sort(),
    );
    assert.ok(p.enabled('guest-ping', false));
    assert.ok(p.enabled('guest-shutdown', false));
  });

  it('opt-ins turn the off-by-default commands on', () => {
    const p = new CommandPolicy({ enabledOptIn: ['guest-exec', 'guest-exec-status'] });
    assert.ok(p.enabled('guest-exec', false));
    assert.ok(p.enabled('guest-exec-status', false));
    assert.ok(!p.enabled('guest-file-open', false));
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
