// The host service definitions: the systemd unit passes `systemd-analyze verify` (with ExecStart
// pointed at the built executable, since verify checks that the binary exists), keeps the sandboxing
// options that would break the agent out, and its command line is accepted by the agent; the OpenRC
// script parses as POSIX sh (openrc-run is not installed here), and with its conf.d defaults it
// builds a command line the agent accepts.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { before, describe, test } from 'node:test';
import { makeTempDir } from '../peer/harness.js';
import { buildSea, missingTools, REPO_ROOT, type SeaBuild } from './build.js';

const UNIT = path.join(REPO_ROOT, 'deploy/systemd/guestlink-agent.service');
const OPENRC = path.join(REPO_ROOT, 'deploy/openrc/guestlink-agent');
const CONFD = path.join(REPO_ROOT, 'deploy/openrc/guestlink-agent.confd');

/** [Section] Key=value pairs of a unit file (later keys win, as for single-valued settings). */
function unitSettings(text: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const line of text.split('\n')) {
    const m = /^([A-Za-z]+)=(.*)$/.exec(line.trim());
    if (m?.[1] && m[2] !== undefined) out.set(m[1], m[2]);
  }
  return out;
}

/** Splits a command line the way systemd and sh do for these simple, unquoted words. */
const words = (s: string) => s.trim().split(/\s+/);

describe('host services', { timeout: 120_000 }, () => {
  let sea: SeaBuild;
  before(async () => {
    sea = await buildSea();
  });

  test('systemd: systemd-analyze verify accepts the unit', { skip: missingTools('systemd-analyze') }, () => {
    const dir = makeTempDir('guestlink-unit-');
    const unit = path.join(dir, 'guestlink-agent.service');
    writeFileSync(unit, readFileSync(UNIT, 'utf8').replaceAll('/usr/local/bin/guestlink', sea.exe));
    const out = execFileSync('systemd-analyze', ['verify', unit], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
    assert.equal(out, '');
  });

  test('systemd: no option that hides mounts, devices, /sys writes, the clock or JIT memory from the agent', () => {
    const s = unitSettings(readFileSync(UNIT, 'utf8'));
    for (const key of [
      'ProtectSystem',
      'ProtectHome',
      'PrivateTmp',
      'PrivateDevices',
      'ProtectKernelTunables',
      'ProtectClock',
      'MemoryDenyWriteExecute',
      'PrivateNetwork',
      'DynamicUser',
      'User',
    ])
      assert.equal(s.get(key), undefined, `${key} would break the agent`);
    const caps = words(s.get('CapabilityBoundingSet') ?? '');
    for (const cap of ['CAP_SYS_ADMIN', 'CAP_SYS_BOOT', 'CAP_SYS_TIME']) assert.ok(caps.includes(cap), `${cap} missing`);
    assert.ok(!caps.includes('CAP_SYS_MODULE') && !caps.includes('CAP_NET_ADMIN'));
    assert.equal(s.get('NoNewPrivileges'), 'yes');
    assert.equal(s.get('Restart'), 'always');
    assert.equal(s.get('RuntimeDirectoryPreserve'), 'yes', 'the frozen marker must survive a restart');
    assert.match(s.get('BindsTo') ?? '', /^dev-virtio\\x2dports-org\.qemu\.guest_agent\.0\.device$/);
    assert.ok(words(s.get('RestrictAddressFamilies') ?? '').includes('AF_UNIX'));
  });

  test('systemd: the agent accepts ExecStart', () => {
    const exec = words(unitSettings(readFileSync(UNIT, 'utf8')).get('ExecStart') ?? '');
    assert.equal(exec[0], '/usr/local/bin/guestlink');
    assert.equal(exec[1], 'agent');
    const out = execFileSync(sea.exe, [...exec.slice(1), '-c', '/dev/null', '--dump-conf'], { encoding: 'utf8' });
    assert.match(out, /^path=\/dev\/virtio-ports\/org\.qemu\.guest_agent\.0$/m);
    assert.match(out, /^statedir=\/run\/guestlink$/m);
  });

  test('OpenRC: the init script and conf.d parse as POSIX sh', { skip: missingTools('sh') }, () => {
    execFileSync('sh', ['-n', OPENRC]);
    execFileSync('sh', ['-n', CONFD]);
    const text = readFileSync(OPENRC, 'utf8');
    assert.match(text, /^#!\/sbin\/openrc-run\n/);
    assert.match(text, /^supervisor="supervise-daemon"$/m);
    assert.match(text, /^depend\(\) \{$/m);
    console.log('# openrc-run is not installed here: syntax checked with sh -n; the command line is built by sourcing the script below');
  });

  test('OpenRC: the command line it builds from the conf.d defaults is accepted by the agent', { skip: missingTools('sh') }, () => {
    // Source conf.d then the script (openrc-run does the same) and print what it would run.
    const script = `. ${CONFD}; RC_SVCNAME=guestlink-agent; . ${OPENRC}; printf '%s\\n' "$command" $command_args`;
    const [command, ...args] = execFileSync('sh', ['-c', script], { encoding: 'utf8' }).trim().split('\n');
    assert.equal(command, '/usr/local/bin/guestlink');
    assert.equal(args[0], 'agent');
    const out = execFileSync(sea.exe, [...args, '-c', '/dev/null', '--dump-conf'], { encoding: 'utf8' });
    assert.match(out, /^path=\/dev\/virtio-ports\/org\.qemu\.guest_agent\.0$/m);
    assert.match(out, /^statedir=\/run\/guestlink$/m);
    // The commented KubeSolo example is valid too.
    const kubesolo = /^#GUESTLINK_OPTS="(.*)"$/m.exec(readFileSync(CONFD, 'utf8'))?.[1];
    assert.ok(kubesolo);
    const k = execFileSync(sea.exe, [...args, ...words(kubesolo), '-c', '/dev/null', '--dump-conf'], { encoding: 'utf8' });
    assert.match(k, /^kube=kubeconfig$/m);
  });
});
