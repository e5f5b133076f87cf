// The environment guest-exec gives a program: fixed PATH and LANG, listed names only, loader variables never.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { buildExecEnv, neverAllowedEnv } from './exec-env.js';

const settings = { execSearchPath: '/usr/bin:/bin', allowExecEnv: ['KUBECONFIG', 'LANG', 'LD_PRELOAD'] };

test('no env: PATH from the settings and LANG=C only', () => {
  assert.deepEqual(buildExecEnv(undefined, settings), { PATH: '/usr/bin:/bin', LANG: 'C' });
  assert.deepEqual(buildExecEnv([], settings), { PATH: '/usr/bin:/bin', LANG: 'C' });
});

test('listed names pass (the first of a repeated name wins, as getenv finds it) and may replace LANG', () => {
  assert.deepEqual(buildExecEnv(['KUBECONFIG=/a=b', 'KUBECONFIG=/c', 'LANG=C.UTF-8'], settings), {
    PATH: '/usr/bin:/bin',
    LANG: 'C.UTF-8',
    KUBECONFIG: '/a=b',
  });
});

test('loader and runtime variables are refused even when listed', () => {
  for (const name of [
    'LD_PRELOAD',
    'LD_AUDIT',
    'GCONV_PATH',
    'GLIBC_TUNABLES',
    'NODE_OPTIONS',
    'PYTHONPATH',
    'PERL5OPT',
    'BASH_ENV',
    'IFS',
  ]) {
    assert.ok(neverAllowedEnv(name), name);
    assert.throws(() => buildExecEnv([`${name}=x`], { ...settings, allowExecEnv: [name] }), {
      desc: `guest-exec: environment variable '${name}' is refused: it changes how programs load code or run, and no setting allows it`,
    });
  }
  assert.ok(neverAllowedEnv('BASH_FUNC_ls%%'));
  assert.ok(!neverAllowedEnv('KUBECONFIG'));
  assert.ok(!neverAllowedEnv('HOME'));
});

test('unlisted names and malformed entries are refused by name or position', () => {
  assert.throws(() => buildExecEnv(['HOME=/root'], settings), {
    desc: "guest-exec: environment variable 'HOME' is not allowed (allow it with --allow-exec-env)",
  });
  assert.throws(() => buildExecEnv(['PATH=/tmp'], settings), /'PATH' is not allowed/);
  assert.throws(() => buildExecEnv(['KUBECONFIG=/x', 'no-equals-sign'], settings), {
    desc: 'guest-exec: env[1] is not NAME=VALUE with a shell variable name',
  });
  assert.throws(() => buildExecEnv(['=x'], settings), /env\[0\] is not NAME=VALUE/);
  assert.throws(() => buildExecEnv(['A-B=x'], settings), /env\[0\] is not NAME=VALUE/);
});
