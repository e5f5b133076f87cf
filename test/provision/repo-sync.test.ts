// Hand-written files that must agree with the code: docs/cloud-init.md with the settings table, and the
// agent service rendered into user-data with the service files in deploy/.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { AGENT_FLAGS, openrcScript, systemdUnit } from '../../src/provision/cloud-init/guest-agent.js';
import { CI_SETTINGS, ciEnvName, ciFlag } from '../../src/provision/cloud-init/settings.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');

it('docs/cloud-init.md lists every setting with its flag, environment variable and file key', () => {
  const doc = readFileSync(path.join(ROOT, 'docs/cloud-init.md'), 'utf8');
  for (const spec of CI_SETTINGS) {
    const row = doc.split('\n').find((l) => l.startsWith(`| \`--${ciFlag(spec)}\``));
    assert.ok(row, `no table row for --${ciFlag(spec)}`);
    assert.ok(row.includes(`\`${ciEnvName(spec.key)}\``), `${spec.key}: environment variable`);
    assert.ok(row.includes(`\`${spec.key}\``), `${spec.key}: file key`);
  }
});

it('the agent service rendered into user-data runs the same command as deploy/ (systemd and OpenRC)', () => {
  const unitFile = path.join(ROOT, 'deploy/systemd/guestlink-agent.service');
  const openrcFile = path.join(ROOT, 'deploy/openrc/guestlink-agent');
  const unit = readFileSync(unitFile, 'utf8');
  const rendered = systemdUnit('/usr/local/bin/guestlink agent');
  const execStart = (text: string) => /^ExecStart=(.*)$/m.exec(text)?.[1];
  assert.equal(execStart(rendered), execStart(unit));
  for (const line of ['BindsTo=', 'After=', 'Conflicts=', 'WantedBy=']) {
    const pick = (text: string) => text.split('\n').find((l) => l.startsWith(line));
    assert.equal(pick(rendered), pick(unit), line);
  }
  const openrc = readFileSync(openrcFile, 'utf8');
  // deploy/ takes the port and state directory from /etc/conf.d variables with these defaults.
  const expanded = openrc
    .replace(/\$\{GUESTLINK_PATH\}/, /GUESTLINK_PATH:=([^}]+)}/.exec(openrc)?.[1] ?? '?')
    .replace(/\$\{GUESTLINK_STATEDIR\}/, /GUESTLINK_STATEDIR:=([^}]+)}/.exec(openrc)?.[1] ?? '?')
    .replace(/ \$\{GUESTLINK_OPTS\}/, '');
  const cmd = (text: string) => [/^command="(.*)"$/m.exec(text)?.[1], /^command_args="(.*)"$/m.exec(text)?.[1]];
  assert.deepEqual(cmd(openrcScript('/usr/local/bin/guestlink agent')), cmd(expanded));
  assert.ok(AGENT_FLAGS.length > 0);
});
