// Hand-written files that must agree with the code: the agent service rendered into user-data with the
// service files in deploy/. (docs/cloud-init.md's settings table is generated: test/cli/option-tables.test.ts.)
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { AGENT_FLAGS, openrcScript, systemdUnit } from '../../src/provision/cloud-init/guest-agent.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');

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
