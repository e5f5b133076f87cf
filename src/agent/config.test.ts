import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { VERSION } from '../version.js';
import { ConfigError, dumpConfig, helpText, loadConfig, parseArgv } from './config.js';

const noFile = () => false;
const load = (argv: string[], env: Record<string, string> = {}, files: Record<string, string> = {}) =>
  loadConfig(
    argv,
    env,
    (p) => {
      const t = files[p];
      if (t === undefined) throw new Error('ENOENT');
      return t;
    },
    noFile,
  );

describe('agent configuration', () => {
  it('defaults to virtio-serial on the standard port, like qemu-ga', () => {
    const { config, action } = load([]);
    assert.equal(action, 'serve');
    assert.equal(config.method, 'virtio-serial');
    assert.equal(config.path, '/dev/virtio-ports/org.qemu.guest_agent.0');
    assert.equal(config.statedir, '/var/run');
    assert.deepEqual(config.allowExec, []);
    assert.equal(config.fsfreezeTimeout, 600);
  });

  it('takes qemu-ga short options, glued or separate', () => {
    const { config } = load(['-m', 'unix-listen', '-p/tmp/x.sock', '-t', '/tmp/st', '-v', '-b', 'guest-shutdown,guest-exec']);
    assert.equal(config.method, 'unix-listen');
    assert.equal(config.path, '/tmp/x.sock');
    assert.equal(config.statedir, '/tmp/st');
    assert.equal(config.verbose, true);
    assert.deepEqual(config.blockRpcs, ['guest-shutdown', 'guest-exec']);
  });

  it('gives -F an optional glued value, as qemu-ga does', () => {
    assert.equal(load(['-F']).config.fsfreezeHook, '/etc/qemu/fsfreeze-hook');
    assert.equal(load(['-F/opt/hook']).config.fsfreezeHook, '/opt/hook');
    assert.equal(load(['--fsfreeze-hook=/opt/h2']).config.fsfreezeHook, '/opt/h2');
    assert.equal(load(['--fsfreeze-hook']).config.fsfreezeHook, '/etc/qemu/fsfreeze-hook');
  });

  it('reads qemu-ga key files: [general] for qemu-ga keys, [guestlink] for ours, legacy blacklist', () => {
    const files = {
      '/etc/ga.conf':
        '# comment\n[general]\nmethod=unix-listen\npath=/tmp/y.sock\nblacklist=guest-ping;guest-info\nverbose=true\nunknown-qemu-key=1\n[guestlink]\nallow-exec=/bin/cat\nfsfreeze-timeout=30\n',
    };
    const { config } = load(['-c', '/etc/ga.conf'], {}, files);
    assert.equal(config.path, '/tmp/y.sock');
    assert.deepEqual(config.blockRpcs, ['guest-ping', 'guest-info']);
    assert.deepEqual(config.allowExec, ['/bin/cat']);
    assert.equal(config.fsfreezeTimeout, 30);
    assert.equal(config.configFile, '/etc/ga.conf');
  });

  it('applies precedence: file < environment < flags', () => {
    const files = { '/c': '[general]\nmethod=isa-serial\n[guestlink]\nfsfreeze-timeout=5\n' };
    const { config } = load(
      ['-c', '/c', '--fsfreeze-timeout', '7'],
      { GUESTLINK_METHOD: 'unix-listen', GUESTLINK_FSFREEZE_TIMEOUT: '6' },
      files,
    );
    assert.equal(config.method, 'unix-listen');
    assert.equal(config.fsfreezeTimeout, 7);
  });

  it('round-trips --dump-conf through -c', () => {
    const first = load([
      '-m',
      'unix-listen',
      '-p',
      '/tmp/a.sock',
      '-t',
      '/tmp/s',
      '-b',
      'guest-exec',
      '--allow-file-read',
      '/var/lib/k/,/etc/x',
    ]);
    assert.equal(first.action, 'serve');
    const dumped = dumpConfig(first.config);
    assert.match(dumped, /^\[general\]\nmethod=unix-listen\n/);
    const again = load(['-c', '/dump'], {}, { '/dump': dumped });
    assert.equal(dumpConfig(again.config), dumped);
    assert.equal(parseArgv(['-D']).action, 'dump-conf');
  });

  it('rejects bad values with a message naming the setting', () => {
    assert.throws(
      () => load(['-m', 'carrier-pigeon']),
      (e: Error) => e instanceof ConfigError && /method/.test(e.message),
    );
    assert.throws(
      () => load(['--allow-exec', 'cat']),
      (e: Error) => e instanceof ConfigError && /allow-exec/.test(e.message),
    );
    assert.throws(() => load(['--fsfreeze-timeout', 'soon']), /not an integer/);
    assert.throws(() => load(['--bogus']), /unknown option --bogus/);
    assert.throws(() => load(['-m', 'vsock-listen']), /vsock-listen is not supported yet/);
    assert.throws(() => load(['-c', '/missing']), /cannot read config file/);
    assert.throws(() => load(['-c', '/bad'], {}, { '/bad': '[guestlink]\nnope=1\n' }), /unknown key "nope"/);
  });

  it('warns about unknown commands in block lists and about allow-exec "*"', () => {
    const { warnings } = load(['-b', 'guest-nope', '--allow-exec', '*']);
    assert.equal(warnings.length, 2);
  });

  it('guest-exec and account settings: defaults, pinned entries, checked names and bounds', () => {
    const d = load([]).config;
    assert.deepEqual(
      [d.allowExecEnv, d.execPath, d.maxExecProcesses, d.maxExecOutputBytes, d.maxExecInputBytes, d.allowAccountChanges],
      [[], '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin', 16, 64 << 20, 32 << 20, false],
    );
    const c = load([
      '--allow-exec',
      '/usr/bin/cat /etc/my%20file,/bin/ip -j ...',
      '--allow-exec-env',
      'KUBECONFIG',
      '--allow-account-changes',
    ]).config;
    assert.deepEqual(c.allowExec, ['/usr/bin/cat /etc/my%20file', '/bin/ip -j ...']);
    assert.equal(c.allowAccountChanges, true);
    assert.throws(
      () => load(['--allow-exec', '/bin/echo 100%']),
      (e: Error) => e instanceof ConfigError && /allow-exec.*%XX/.test(e.message),
    );
    assert.throws(() => load(['--allow-exec-env', 'A-B']), /environment variable name/);
    assert.throws(() => load(['--exec-path', '/bin:bin']), /absolute directories/);
    assert.throws(() => load(['--max-exec-processes', '0']), /below the minimum 1/);
    const { warnings } = load(['--allow-exec-env', 'LD_PRELOAD,KUBECONFIG']);
    assert.deepEqual(warnings, ['allow-exec-env: LD_PRELOAD changes how programs load code or run; it is never allowed and is ignored']);
  });

  it('supports --no-NAME for booleans and lists commands with -b help', () => {
    assert.equal(load(['--no-hide-virtual-interfaces']).config.hideVirtualInterfaces, false);
    assert.equal(parseArgv(['-b', 'help']).action, 'list-rpcs');
  });

  it('documents every setting in --help', () => {
    const help = helpText('guestlink-agent');
    for (const flag of ['--method', '--allow-exec', '--fsfreeze-timeout', '--block-rpcs', '-c, --config'])
      assert.ok(help.includes(flag), flag);
  });

  it('keeps VERSION equal to package.json', () => {
    const pkg = JSON.parse(readFileSync(new URL('../../../package.json', import.meta.url), 'utf8')) as { version: string };
    assert.equal(VERSION, pkg.version);
  });
});
