// The guestlink CLI's generic call against a running agent: exit codes and output as documented.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { makeTempDir, type Peer, REPO_ROOT, startGuestlink } from '../peer/harness.js';

const CLI = path.join(REPO_ROOT, 'bin/guestlink.js');
const cli = (...args: string[]) => spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8', timeout: 20_000 });

describe('guestlink call', () => {
  let agent: Peer;
  let vm: string;
  before(async () => {
    agent = await startGuestlink(makeTempDir());
    vm = `unix:${agent.socket}`;
  });
  after(() => agent?.stop());

  it('prints the return value as JSON and exits 0', () => {
    const r = cli('call', vm, 'guest-sync', '--arg', 'id=9223372036854775807');
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stdout, '9223372036854775807\n');
    const info = cli('call', vm, 'guest-info');
    assert.equal(info.status, 0, info.stderr);
    assert.match(info.stdout, /"supported_commands": \[/);
  });

  it('exits 1 with the agent error, 2 on usage errors, 3 when nothing answers', () => {
    const disabled = cli('call', vm, 'guest-exec', '--arg', 'path=/bin/true');
    assert.equal(disabled.status, 1);
    assert.match(disabled.stderr, /CommandNotFound: Command guest-exec has been disabled/);
    const usage = cli('call', vm, 'guest-nope');
    assert.equal(usage.status, 2);
    assert.match(usage.stderr, /unknown command "guest-nope"/);
    const missing = cli('call', `unix:${path.join(makeTempDir(), 'none.sock')}`, 'guest-ping', '--timeout', '1');
    assert.equal(missing.status, 3);
    assert.match(missing.stderr, /cannot connect/);
  });

  it('sends guest-shutdown without waiting for a reply (the dry-run back end records it)', () => {
    const r = cli('call', vm, 'guest-shutdown', '--arg', 'mode=reboot', '--timeout', '1');
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stdout, '');
  });

  it('lists every command with its arguments', () => {
    const r = cli('commands');
    assert.equal(r.status, 0);
    assert.match(r.stdout, /^guest-exec path=str \[arg=\[str\]\]/m);
  });
});
