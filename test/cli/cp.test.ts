// guestlink cp both ways with 64 MiB of random bytes, against guestlink's agent and the real
// qemu-ga: the bytes arrive intact, and the copy is checked against the guest's own sha256sum
// (or a read-back / the size when the agent may not run sha256sum).
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { HAVE_QEMU_GA, makeTempDir, type Peer, type Peers, QEMU_BLOCK, startGuestlink, startPeers } from '../peer/harness.js';
import { runCli } from './run-cli.js';

const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');

describe('guestlink cp', () => {
  let peers: Peers;
  let noExec: Peer;
  let files: string;
  let src: string;
  let data: Buffer;
  before(async () => {
    const dir = makeTempDir();
    files = path.join(dir, 'guest');
    mkdirSync(files);
    // guestlink may read and write only there, and run only sha256sum.
    peers = await startPeers({
      agentArgs: ['--allow-file-read', `${files}/`, '--allow-file-write', `${files}/`, '--allow-exec', '/usr/bin/sha256sum'],
      block: QEMU_BLOCK,
    });
    noExec = await startGuestlink(makeTempDir(), ['--allow-file-read', `${files}/`, '--allow-file-write', `${files}/`]);
    data = randomBytes(64 << 20);
    src = path.join(dir, 'src.bin');
    writeFileSync(src, data);
  });
  after(async () => {
    await noExec?.stop();
    await peers?.stop();
  });

  for (const kind of ['guestlink', 'qemu-ga'] as const) {
    test(`64 MiB up and down again, checked by the guest's sha256sum (${kind})`, {
      skip: kind === 'qemu-ga' && !HAVE_QEMU_GA ? 'no qemu-ga' : false,
      timeout: 180_000,
    }, async () => {
      const peer = kind === 'guestlink' ? peers.agent : peers.qemu;
      const vm = `unix:${peer?.socket}`;
      const guestFile = path.join(files, `${kind}.bin`);
      const up = await runCli(['cp', src, `${vm}:${guestFile}`, '-o', 'json'], { timeoutMs: 150_000 });
      assert.equal(up.status, 0, up.stderr);
      const u = JSON.parse(up.stdout);
      assert.equal(u.bytes, 64 << 20);
      assert.equal(u.sha256, sha(data));
      assert.equal(u.verified, 'sha256');
      assert.ok(readFileSync(guestFile).equals(data), 'the guest file holds the same bytes');
      const local = path.join(files, `${kind}.back`);
      const down = await runCli(['cp', `${vm}:${guestFile}`, local, '-o', 'json'], { timeoutMs: 150_000 });
      assert.equal(down.status, 0, down.stderr);
      const d = JSON.parse(down.stdout);
      assert.equal(d.sha256, sha(data));
      assert.equal(d.verified, 'sha256');
      assert.ok(readFileSync(local).equals(data));
      assert.equal(statSync(local).mode & 0o777, 0o600, 'downloads are private to the user');
      console.log(
        `# cp 64 MiB ${kind}: up ${(u.ms / 1000).toFixed(2)} s (${u.chunks} chunks), down ${(d.ms / 1000).toFixed(2)} s (${d.chunks} chunks), sha256 checked by the guest both ways`,
      );
    });
  }

  test('without guest-exec: uploads are read back, downloads size-checked', async () => {
    const vm = `unix:${noExec.socket}`;
    const small = path.join(files, 'small.src');
    writeFileSync(small, randomBytes(300_000));
    const up = await runCli(['cp', small, `${vm}:${path.join(files, 'small.bin')}`, '-o', 'json']);
    assert.equal(up.status, 0, up.stderr);
    assert.equal(JSON.parse(up.stdout).verified, 'readback');
    const down = await runCli(['cp', `${vm}:${path.join(files, 'small.bin')}`, path.join(files, 'small.back')]);
    assert.equal(down.status, 0, down.stderr);
    assert.match(down.stdout, /^300000 bytes in .*: size matches the guest's/);
    assert.ok(readFileSync(path.join(files, 'small.back')).equals(readFileSync(small)));
  });

  test('a local directory as the target keeps the guest file name; errors keep their exit codes', async () => {
    const vm = `unix:${peers.agent?.socket}`;
    writeFileSync(path.join(files, 'named.txt'), 'hello\n');
    const dir = makeTempDir();
    const r = await runCli(['cp', `${vm}:${path.join(files, 'named.txt')}`, dir]);
    assert.equal(r.status, 0, r.stderr);
    assert.equal(readFileSync(path.join(dir, 'named.txt'), 'utf8'), 'hello\n');
    const denied = await runCli(['cp', `${vm}:/etc/hostname`, dir]);
    assert.equal(denied.status, 1);
    assert.match(denied.stderr, /not allowed for reading/);
    const both = await runCli(['cp', `${vm}:/a`, `${vm}:/b`]);
    assert.equal(both.status, 2);
  });
});
