// --allow-exec entries: parsing (percent-escapes, "...", "*") and matching a request against them.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { checkExec, ExecRuleError, parseExecRule } from './exec-rules.js';

describe('parseExecRule', () => {
  test('a program alone leaves the arguments free', () => {
    assert.deepEqual(parseExecRule('/usr/bin/uptime'), { program: '/usr/bin/uptime', moreArgs: true });
    assert.deepEqual(parseExecRule('/usr/bin/../bin/uptime'), { program: '/usr/bin/uptime', moreArgs: true });
  });

  test('pinned arguments, exact or with more after "..."', () => {
    assert.deepEqual(parseExecRule('/usr/bin/cat /var/lib/kubesolo/pki/admin/admin.kubeconfig'), {
      program: '/usr/bin/cat',
      args: ['/var/lib/kubesolo/pki/admin/admin.kubeconfig'],
      moreArgs: false,
    });
    assert.deepEqual(parseExecRule('  /usr/sbin/ip   -j addr ... '), { program: '/usr/sbin/ip', args: ['-j', 'addr'], moreArgs: true });
  });

  test('%XX writes spaces, commas, semicolons, percent signs and a literal "..."', () => {
    assert.deepEqual(parseExecRule('/bin/echo my%20file a%2Cb a%3Bb 100%25 %2E..').args, ['my file', 'a,b', 'a;b', '100%', '...']);
    assert.deepEqual(parseExecRule('/opt/my%20tools/run').program, '/opt/my tools/run');
    assert.deepEqual(parseExecRule('/bin/echo %C3%A9').args, ['é']);
  });

  test('refusals say what is wrong', () => {
    assert.throws(() => parseExecRule('cat /etc/hosts'), { message: '"cat /etc/hosts": the program must be an absolute path' });
    assert.throws(() => parseExecRule('* -c'), /"\*" \(any program\) cannot have pinned arguments/);
    assert.throws(() => parseExecRule('/bin/echo 100%'), /a % must start a %XX escape/);
    assert.throws(() => parseExecRule('/bin/echo %FF'), /must spell UTF-8/);
    assert.throws(() => parseExecRule('   '), ExecRuleError);
  });
});

describe('checkExec', () => {
  const rules = ['/bin/cat /etc/hostname', '/bin/cat /etc/os-release', '/bin/ip -j ...', '/bin/date'].map(parseExecRule);

  test('a program on no entry, or only its arguments off the list', () => {
    assert.equal(checkExec(rules, '/bin/ls', []), 'program');
    assert.equal(checkExec(rules, '/bin/cat', ['/etc/shadow']), 'arguments');
    assert.equal(checkExec(rules, '/bin/cat', ['/etc/hostname', '/etc/shadow']), 'arguments', 'exact means no more');
    assert.equal(checkExec(rules, '/bin/cat', []), 'arguments');
    assert.equal(checkExec(rules, '/bin/ip', ['addr']), 'arguments');
  });

  test('any entry that fits allows it', () => {
    assert.equal(checkExec(rules, '/bin/cat', ['/etc/os-release']), 'allowed');
    assert.equal(checkExec(rules, '/bin/ip', ['-j']), 'allowed');
    assert.equal(checkExec(rules, '/bin/ip', ['-j', 'addr', 'show']), 'allowed');
    assert.equal(checkExec(rules, '/bin/date', ['-s', 'anything']), 'allowed', 'an unpinned program takes any arguments');
    assert.equal(checkExec([parseExecRule('*')], '/anything', ['x']), 'allowed');
  });
});
