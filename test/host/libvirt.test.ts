// The libvirt: connector through a virsh double (test/host/virsh-double.ts) that forwards to real
// guestlink agents: argv as virsh takes it (-c URI, --timeout, the request as one argument within
// Linux's 128 KiB argument limit), replies parsed losslessly, errors mapped, power through
// `virsh shutdown|reboot --mode agent`, fleet over a domain glob. The real virsh runs in test/e2e.
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { chmodSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { runCli } from '../cli/run-cli.js';
import { makeTempDir, type Peer, REPO_ROOT, startGuestlink } from '../peer/harness.js';

describe('libvirt: through virsh', () => {
  let dir: string;
  let files: string;
  let env: Record<string, string>;
  let log: string;
  const agents: Peer[] = [];
  before(async () => {
    dir = makeTempDir();
    files = path.join(dir, 'guest');
    mkdirSync(files);
    for (const n of ['k8s-a', 'k8s-b']) {
      mkdirSync(path.join(dir, n));
      agents.push(
        await startGuestlink(path.join(dir, n), ['--allow-exec', '*', '--allow-file-read', `${files}/`, '--allow-file-write', `${files}/`]),
      );
    }
    const virsh = path.join(dir, 'virsh');
    writeFileSync(virsh, `#!/bin/sh\nexec "${process.execPath}" "${path.join(REPO_ROOT, 'dist/test/host/virsh-double.js')}" "$@"\n`);
    chmodSync(virsh, 0o755);
    log = path.join(dir, 'virsh.log');
    env = {
      GUESTLINK_VIRSH: virsh,
      GL_VIRSH_LOG: log,
      GL_VIRSH_DOMAINS: JSON.stringify({ 'k8s-a': agents[0]?.socket, 'k8s-b': agents[1]?.socket, 'web-1': path.join(dir, 'down.sock') }),
    };
  });
  after(() => Promise.all(agents.map((a) => a.stop())));
  const calls = () =>
    readFileSync(log, 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as string[]);

  test('query verbs and a lossless 64-bit reply; -c and --timeout reach virsh', async () => {
    for (const verb of ['ping', 'info', 'osinfo', 'ips', 'fsinfo']) {
      const r = await runCli([verb, 'libvirt:k8s-a', '-c', 'qemu:///system'], { env });
      assert.equal(r.status, 0, `${verb}: ${r.stderr}`);
    }
    const t = await runCli(['call', 'libvirt:k8s-a', 'guest-sync', '--arg', 'id=9223372036854775807', '--timeout', '7'], { env });
    assert.equal(t.stdout, '9223372036854775807\n');
    const last = calls().at(-1) as string[];
    assert.deepEqual(last.slice(0, 4), ['qemu-agent-command', 'k8s-a', '--timeout', '7']);
    assert.ok(calls().some((c) => c[0] === '-c' && c[1] === 'qemu:///system'));
  });

  test('agent errors keep their class; an unknown domain and a dead agent are unreachable', async () => {
    const denied = await runCli(['cp', `libvirt:k8s-a:/etc/shadow`, dir], { env });
    assert.equal(denied.status, 1);
    assert.match(denied.stderr, /GenericError: guest-file-open: '\/etc\/shadow' is not allowed for reading/);
    const nodom = await runCli(['ping', 'libvirt:nope'], { env });
    assert.equal(nodom.status, 3);
    assert.match(nodom.stderr, /failed to get domain 'nope'/);
    const down = await runCli(['ping', 'libvirt:web-1'], { env });
    assert.equal(down.status, 3);
    assert.match(down.stderr, /Guest agent is not responding/);
  });

  test('exec and cp both ways: writes in chunks that fit one argv string', async () => {
    const e = await runCli(['exec', 'libvirt:k8s-a', '--', '/bin/sh', '-c', 'echo hi; exit 4'], { env });
    assert.equal(e.status, 4);
    assert.equal(e.stdout, 'hi\n');
    const data = randomBytes(200_000);
    writeFileSync(path.join(dir, 'up.bin'), data);
    const up = await runCli(['cp', path.join(dir, 'up.bin'), `libvirt:k8s-a:${files}/up.bin`, '-o', 'json'], { env });
    assert.equal(up.status, 0, up.stderr);
    const u = JSON.parse(up.stdout);
    assert.equal(u.chunks, 5);
    assert.equal(u.verified, 'sha256');
    assert.ok(readFileSync(path.join(files, 'up.bin')).equals(data));
    assert.ok(Math.max(...calls().map((c) => (c.at(-1) as string).length)) < 128 * 1024, 'every request fits one argument');
    const down = await runCli(['cp', `libvirt:k8s-a:${files}/up.bin`, path.join(dir, 'down.bin'), '-o', 'json'], { env });
    assert.equal(JSON.parse(down.stdout).sha256, createHash('sha256').update(data).digest('hex'));
  });

  test('shutdown and reboot use virsh shutdown|reboot --mode agent', async () => {
    assert.equal((await runCli(['shutdown', 'libvirt:k8s-b'], { env })).status, 0);
    assert.equal((await runCli(['reboot', 'libvirt:k8s-b'], { env })).status, 0);
    const c = calls();
    assert.ok(c.some((x) => x.join(' ') === 'shutdown k8s-b --mode agent'));
    assert.ok(c.some((x) => x.join(' ') === 'reboot k8s-b --mode agent'));
    const power = readFileSync(path.join(dir, 'k8s-b', 'gst', 'guestlink-power.jsonl'), 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l).mode);
    assert.deepEqual(power, ['powerdown', 'reboot']);
  });

  test('fleet over a domain glob: libvirt:k8s-* takes the two k8s domains', async () => {
    const r = await runCli(['ping', 'libvirt:k8s-*', '-o', 'json'], { env });
    assert.equal(r.status, 0, r.stderr);
    assert.deepEqual(
      JSON.parse(r.stdout).results.map((x: { vm: string }) => x.vm),
      ['libvirt:k8s-a', 'libvirt:k8s-b'],
    );
    const all = await runCli(['ping', 'libvirt:*'], { env });
    assert.equal(all.status, 4);
    assert.match(all.stdout, /^libvirt:web-1\s+FAILED/m);
  });
});
