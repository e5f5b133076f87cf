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

test('attacks on the command line: each is refused with a message naming the option and what to do', () => {
  // A scalar option given twice: the second is most often a mistake (a script appending defaults).
  assert.throws(() => parseCommandLine(['ping', 'x', '--timeout', '1', '--timeout', '2']), {
    message: '--timeout is given more than once (also as --timeout); give it once',
  });
  assert.throws(() => parseCommandLine(['ping', 'x', '-o', 'json', '--output=yaml']), {
    message: '--output is given more than once (also as -o (--output)); give it once',
  });
  assert.throws(() => parseCommandLine(['ping', 'x', '-q', '--no-quiet']), /--no-quiet is given more than once/);
  // Lists add up instead.
  assert.deepEqual(parseCommandLine(['exec', 'x', '-e', 'A=1', '-e', 'B=2']).options.env, ['A=1', 'B=2']);
  // A forgotten value: the next option is not taken as the value.
  assert.throws(() => parseCommandLine(['kubeconfig', 'x', '--file', '-q']), {
    message:
      'option --file needs a value, and the next argument "-q" looks like an option; to give a value that starts with "-", write --file=-q',
  });
  assert.throws(() => parseCommandLine(['exec', 'x', '-e', '--stdin']), /option -e \(--env\) needs a value.*write -e--stdin/);
  assert.throws(() => parseCommandLine(['ping', 'x', '--timeout', '-5']), /write --timeout=-5/);
  // ... while a glued value that starts with "-" is taken as given (and checked).
  assert.equal(parseCommandLine(['kubeconfig', 'x', '--file=-q']).options.file, '-q');
  assert.throws(() => parseCommandLine(['ping', 'x', '--timeout=-5']), { message: '--timeout: -5 must be a positive number of seconds' });
  // An empty value is a value, and checked like any other.
  assert.throws(() => parseCommandLine(['ping', 'x', '--timeout=']), { message: '--timeout: "" is not a number' });
  assert.throws(() => parseCommandLine(['ping', 'x', '--output=']), { message: '--output: "" is not one of table, json, yaml' });
  assert.throws(() => parseCommandLine(['ping', 'x', '-j', '']), { message: '-j (--concurrency): "" is not an integer' });
  // Huge values and names are cut in the message, which stays readable.
  const huge = 'a'.repeat(100_000);
  assert.throws(
    () => parseCommandLine(['ping', 'x', `--output=${huge}`]),
    (e: Error) => e.message.length < 200 && e.message.includes('(100000 characters)') && e.message.includes('not one of table, json, yaml'),
  );
  assert.throws(
    () => parseCommandLine(['ping', 'x', `--${huge}`]),
    (e: Error) => e.message.length < 120 && e.message.startsWith('unknown option --aaa'),
  );
  assert.throws(
    () => parseCommandLine(['ping', 'x', '-j', '9'.repeat(400)]),
    (e: Error) => /is not an integer|too large/.test(e.message) && e.message.length < 200,
  );
  // Control characters in a value are escaped in the message, never written raw to the terminal.
  assert.throws(() => parseCommandLine(['ping', 'x', '-o', 'json\n\x1b[31m']), {
    message: '-o (--output): "json\\n\\u001b[31m" is not one of table, json, yaml',
  });
  // Unknown short options, and a short option clustered with an unknown one.
  assert.throws(() => parseCommandLine(['ping', 'x', '-Z']), { message: 'unknown option -Z' });
  assert.throws(() => parseCommandLine(['ping', 'x', '-qZ']), { message: 'unknown option -Z' });
  // The lone "-" is a value (stdin/stdout for the verbs that take one), not an option.
  assert.equal(parseCommandLine(['kubeconfig', 'x', '--file', '-']).options.file, '-');
});
