import assert from 'node:assert/strict';
import { test } from 'node:test';
import { byteCount, checkOptionsFor, parseCommandLine } from './options.js';
import { splitRemote } from './verbs/cp.js';

test('exec: everything after -- is the command, options included', () => {
  const p = parseCommandLine(['exec', 'unix:/s', '-o', 'json', '--', '/bin/ls', '-la', '--color']);
  assert.deepEqual(p.positionals, ['exec', 'unix:/s']);
  assert.deepEqual(p.rest, ['/bin/ls', '-la', '--color']);
  assert.equal(p.options.output, 'json');
  assert.equal(p.sawTerminator, true);
});

test('options are typed by the table, defaults filled in, and "given" says which were typed', () => {
  const p = parseCommandLine(['ping', 'x', '-j4', '--timeout', '0.5', '-q']);
  assert.equal(p.options.concurrency, 4);
  assert.equal(p.options.timeout, 0.5);
  assert.equal(p.options.quiet, true);
  assert.equal(p.options.output, 'table');
  assert.deepEqual([...p.given].sort(), ['concurrency', 'quiet', 'timeout']);
  const repeated = parseCommandLine(['call', 'x', 'guest-sync', '-a', 'id=1,2', '--arg', 'b=x=y']);
  assert.deepEqual(repeated.options.arg, ['id=1,2', 'b=x=y'], 'repeatable; one item per flag, commas kept');
  assert.deepEqual(parseCommandLine(['--version']).actions, new Set(['version']));
});

test('options are checked per verb and against their choices and bounds', () => {
  assert.throws(() => checkOptionsFor('ping', parseCommandLine(['ping', 'x', '--wait']).given), {
    message: '--wait does not apply to ping',
  });
  assert.doesNotThrow(() => checkOptionsFor('kubeconfig', parseCommandLine(['kubeconfig', 'x', '--wait']).given));
  assert.throws(() => parseCommandLine(['ping', '-o', 'xml']), { message: '-o (--output): "xml" is not one of table, json, yaml' });
  assert.throws(() => parseCommandLine(['ping', '--bogus']), { message: 'unknown option --bogus' });
  assert.throws(() => parseCommandLine(['ping', '-j', '0']), { message: '-j (--concurrency): 0 is below the minimum 1' });
  assert.throws(() => parseCommandLine(['ping', '--timeout', '0']), { message: '--timeout: 0 must be a positive number of seconds' });
  assert.throws(() => parseCommandLine(['cp', '--max-bytes', '4XB']), /--max-bytes: "4XB" must be a positive number of bytes/);
  assert.throws(() => parseCommandLine(['ping', '--output']), { message: 'option --output needs a value' });
  assert.equal(byteCount(parseCommandLine(['cp', '--max-bytes', '4MiB']).options.maxBytes), 4 << 20);
  assert.equal(byteCount(undefined), undefined);
});

test('cp: the guest side is split at the last ":/" (addresses contain colons)', () => {
  assert.deepEqual(splitRemote('unix:/run/q.sock:/etc/hosts'), { address: 'unix:/run/q.sock', path: '/etc/hosts' });
  assert.deepEqual(splitRemote('pve://pve1/100:/etc/hosts'), { address: 'pve://pve1/100', path: '/etc/hosts' });
  assert.deepEqual(splitRemote('libvirt:web1:/tmp/x'), { address: 'libvirt:web1', path: '/tmp/x' });
  assert.equal(splitRemote('./local/file'), undefined);
  assert.equal(splitRemote('pve://pve1/100'), undefined);
});
