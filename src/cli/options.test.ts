import assert from 'node:assert/strict';
import { test } from 'node:test';
import { checkOptionsFor, parseCommandLine } from './options.js';
import { splitRemote } from './verbs/cp.js';

test('exec: everything after -- is the command, options included', () => {
  const p = parseCommandLine(['exec', 'unix:/s', '-o', 'json', '--', '/bin/ls', '-la', '--color']);
  assert.deepEqual(p.positionals, ['exec', 'unix:/s']);
  assert.deepEqual(p.rest, ['/bin/ls', '-la', '--color']);
  assert.equal(p.values.output, 'json');
  assert.equal(p.sawTerminator, true);
});

test('options are checked per verb and against their choices', () => {
  assert.throws(() => checkOptionsFor('ping', parseCommandLine(['ping', 'x', '--wait']).values), /--wait does not apply to ping/);
  assert.throws(() => parseCommandLine(['ping', '-o', 'xml']), /--output must be one of table, json, yaml/);
  assert.throws(() => parseCommandLine(['ping', '--bogus']), /Unknown option '--bogus'/);
});

test('cp: the guest side is split at the last ":/" (addresses contain colons)', () => {
  assert.deepEqual(splitRemote('unix:/run/q.sock:/etc/hosts'), { address: 'unix:/run/q.sock', path: '/etc/hosts' });
  assert.deepEqual(splitRemote('pve://pve1/100:/etc/hosts'), { address: 'pve://pve1/100', path: '/etc/hosts' });
  assert.deepEqual(splitRemote('libvirt:web1:/tmp/x'), { address: 'libvirt:web1', path: '/tmp/x' });
  assert.equal(splitRemote('./local/file'), undefined);
  assert.equal(splitRemote('pve://pve1/100'), undefined);
});
