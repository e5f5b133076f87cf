import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  completionWords,
  FlagIndex,
  helpLines,
  markdownTable,
  parseArgv,
  readEnv,
  readMapping,
  resolve,
  SettingError,
  type SettingSpec,
  type SettingsOf,
} from './index.js';

const TABLE = [
  { key: 'method', short: 'm', type: 'string', default: 'virtio-serial', choices: ['virtio-serial', 'unix-listen'], help: 'transport' },
  { key: 'path', short: 'p', type: 'string', absolute: true, help: 'device' },
  { key: 'verbose', short: 'v', type: 'bool', help: 'debug' },
  { key: 'retry-path', short: 'r', type: 'bool', default: false, help: 'retry' },
  { key: 'hook', short: 'F', type: 'string', optionalValue: '/etc/hook', help: 'hook' },
  { key: 'block-rpcs', short: 'b', type: 'list', aliases: ['blacklist'], help: 'blocked' },
  { key: 'allow-exec', type: 'list', absolute: true, wildcard: '*', help: 'programs' },
  { key: 'timeout', type: 'int', default: 600, min: 0, max: 3600, help: 'seconds' },
  { key: 'env', short: 'e', flag: 'env-var', type: 'list', split: 'none', help: 'NAME=VALUE' },
  { key: 'token', type: 'string', secret: true, check: (v) => (String(v).length < 4 ? 'is too short' : undefined), help: 't' },
  { key: 'help', short: 'h', type: 'bool', action: 'help', noEnv: true, help: 'this text' },
  { key: 'config', short: 'c', type: 'string', action: 'config', noEnv: true, help: 'a file' },
] as const satisfies readonly SettingSpec[];

const index = new FlagIndex(TABLE);
const parse = (argv: string[], positionals = true) => parseArgv(index, argv, { positionals });

describe('settings engine: the command line', () => {
  it('takes long, short, glued and clustered forms', () => {
    const p = parse(['-vr', '-munix-listen', '-p', '/tmp/s', '--timeout=30', '--block-rpcs', 'a,b;c']);
    assert.equal(p.values.get('verbose'), true);
    assert.equal(p.values.get('retry-path'), true);
    assert.equal(p.values.get('method'), 'unix-listen');
    assert.equal(p.values.get('path'), '/tmp/s');
    assert.equal(p.values.get('timeout'), 30);
    assert.deepEqual(p.values.get('block-rpcs'), ['a', 'b', 'c']);
  });

  it('gives an optional value only when glued (-F, -F/x, --hook, --hook=/x)', () => {
    assert.equal(parse(['-F']).values.get('hook'), '/etc/hook');
    assert.equal(parse(['-F/x']).values.get('hook'), '/x');
    assert.equal(parse(['--hook', '/y']).values.get('hook'), '/etc/hook');
    assert.deepEqual(parse(['--hook', '/y']).positionals, ['/y']);
    assert.equal(parse(['--hook=/x']).values.get('hook'), '/x');
  });

  it('adds up repeated list flags, keeps KEY=VALUE items whole, and takes --no-NAME for booleans', () => {
    const p = parse(['-e', 'A=1,2', '--env-var', 'B=3', '-b', 'x', '-b', 'y', '--no-retry-path']);
    assert.deepEqual(p.values.get('env'), ['A=1,2', 'B=3']);
    assert.deepEqual(p.values.get('block-rpcs'), ['x', 'y']);
    assert.equal(p.values.get('retry-path'), false);
  });

  it('reports actions, positionals and what follows --', () => {
    const p = parse(['-h', 'vm1', '-c', '/etc/a.conf', '--', '-v', 'x']);
    assert.equal(p.actions.get('help'), true);
    assert.equal(p.actions.get('config'), '/etc/a.conf');
    assert.deepEqual(p.positionals, ['vm1']);
    assert.deepEqual(p.rest, ['-v', 'x']);
    assert.equal(p.sawTerminator, true);
  });

  it('refuses what it does not know, with the argument named', () => {
    assert.throws(() => parse(['--nope']), { message: 'unknown option --nope' });
    assert.throws(() => parse(['-Z']), { message: 'unknown option -Z' });
    assert.throws(() => parse(['-m']), { message: 'option -m (--method) needs a value' });
    assert.throws(() => parse(['stray'], false), { message: 'unexpected argument "stray"' });
    assert.throws(() => parse(['--no-path']), { message: 'unknown option --no-path' });
  });

  it('checks values against the spec and names the source', () => {
    assert.throws(() => parse(['-m', 'tcp']), { message: '-m (--method): "tcp" is not one of virtio-serial, unix-listen' });
    assert.throws(() => parse(['--timeout', '99999']), { message: '--timeout: 99999 is above the maximum 3600' });
    assert.throws(() => parse(['--timeout', '1.5']), { message: '--timeout: "1.5" is not an integer' });
    assert.throws(() => parse(['-p', 'rel/x']), { message: '-p (--path): "rel/x" must be an absolute path' });
    assert.throws(() => parse(['--allow-exec', '/bin/cat,cat']), { message: '--allow-exec: "cat" must be an absolute path' });
    assert.deepEqual(parse(['--allow-exec', '*']).values.get('allow-exec'), ['*']);
    assert.throws(() => parse(['--verbose=maybe']), { message: '--verbose: "maybe" is not a boolean (true or false)' });
  });

  it('never repeats a secret value in an error', () => {
    assert.throws(
      () => parse(['--token', 'abc']),
      (err: Error) => err instanceof SettingError && !err.message.includes('abc') && err.message === '--token: is too short',
    );
  });

  it('refuses a table that defines a flag twice', () => {
    assert.throws(() => new FlagIndex([...TABLE, { key: 'x', short: 'm', type: 'bool', help: '' }]), /-m defined twice/);
  });
});

describe('settings engine: sources and precedence', () => {
  it('reads the environment with a prefix and refuses unknown names when asked', () => {
    const layer = readEnv(TABLE, { G_TIMEOUT: '5', G_VERBOSE: 'yes', OTHER: 'x' }, { prefix: 'G', refuseUnknown: true });
    assert.equal(layer.get('timeout'), 5);
    assert.equal(layer.get('verbose'), true);
    assert.throws(
      () => readEnv(TABLE, { G_TIMEOUTT: '5' }, { prefix: 'G', refuseUnknown: true }),
      /unknown environment variable G_TIMEOUTT/,
    );
    assert.equal(readEnv(TABLE, { G_HELP: '1' }, { prefix: 'G', refuseUnknown: false }).size, 0);
  });

  it('reads a file mapping with aliases, typed YAML values, and refuses or ignores unknown keys', () => {
    const layer = readMapping(
      TABLE,
      [
        ['blacklist', 'a;b'],
        ['timeout', 7],
        ['verbose', true],
        ['path', null],
      ],
      { source: 'f.conf' },
    );
    assert.deepEqual(layer.get('block-rpcs'), ['a', 'b']);
    assert.equal(layer.get('timeout'), 7);
    assert.equal(layer.has('path'), false);
    assert.throws(() => readMapping(TABLE, [['zzz', '1']], { source: 'f.conf' }), { message: 'f.conf: unknown key "zzz"' });
    assert.equal(readMapping(TABLE, [['zzz', '1']], { source: 'f.conf', unknown: 'ignore' }).size, 0);
    assert.throws(() => readMapping(TABLE, [['timeout', 'x']], { source: 'f.conf' }), {
      message: 'f.conf: timeout: "x" is not an integer',
    });
  });

  it('merges defaults < file < environment < flags into one frozen, typed object', () => {
    const file = readMapping(TABLE, [['timeout', '1']], { source: 'f' });
    const env = readEnv(TABLE, { G_TIMEOUT: '2', G_METHOD: 'unix-listen' }, { prefix: 'G' });
    const flags = parse(['--timeout', '3']).values;
    const s: SettingsOf<typeof TABLE> = resolve(TABLE, file, env, flags);
    assert.equal(s.timeout, 3);
    assert.equal(s.method, 'unix-listen');
    assert.equal(s.verbose, false);
    assert.deepEqual(s.blockRpcs, []);
    assert.equal(s.path, undefined);
    assert.equal(Object.isFrozen(s), true);
    assert.equal('help' in s, false);
  });
});

describe('settings engine: what people read', () => {
  it('writes help lines with choices and defaults, and a Markdown table', () => {
    const help = helpLines(TABLE).join('\n');
    assert.match(help, /-m, --method VALUE +transport \[virtio-serial\|unix-listen\] \(default: virtio-serial\)/);
    assert.match(help, /-F, --hook\[=PATH\] +hook/);
    assert.doesNotMatch(help, /default: .*secret/);
    const md = markdownTable(TABLE, { envPrefix: 'G' }).join('\n');
    assert.match(md, /\| `timeout` \| `--timeout` \| `G_TIMEOUT` \| 600 \| seconds\. From 0 to 3600\. \|/);
    assert.doesNotMatch(md, /`help`/);
  });

  it('gives completion every flag, the valued ones and the choices', () => {
    const w = completionWords(TABLE);
    assert.ok(w.flags.includes('--env-var'));
    assert.ok(w.valued.includes('-m') && w.valued.includes('--timeout') && !w.valued.includes('--verbose') && !w.valued.includes('--hook'));
    assert.deepEqual(w.choices, [['--method|-m', ['virtio-serial', 'unix-listen']]]);
  });
});
