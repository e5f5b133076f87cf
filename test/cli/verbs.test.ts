// Every per-VM verb of the CLI against guestlink's agent and the real qemu-ga on unix sockets:
// output in each format, exit codes, exec statuses and signals, power through the dry-run back end.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { HAVE_QEMU_GA, type Peers, QEMU_BLOCK, startPeers } from '../peer/harness.js';
import { runCli } from './run-cli.js';

describe('guestlink verbs against guestlink and qemu-ga', () => {
  let peers: Peers;
  const vms: Record<string, string> = {};
  before(async () => {
    // guestlink: exec of any program and files under the peers' dir; qemu-ga has everything enabled
    // except what would act on this machine (QEMU_BLOCK); guestlink keeps guest-shutdown (dry-run power).
    peers = await startPeers({
      block: QEMU_BLOCK.filter((c) => c !== 'guest-shutdown'),
      qemuArgs: ['-b', QEMU_BLOCK.join(',')],
      // The request's variables reach a guestlink program only when listed (docs/security.md).
      agentArgs: ['--allow-exec', '*', '--allow-exec-env', 'FOO,PATH'],
    });
    vms.guestlink = `unix:${peers.agent?.socket}`;
    if (peers.qemu) vms['qemu-ga'] = `unix:${peers.qemu.socket}`;
  });
  after(() => peers?.stop());
  const each = (name: string, fn: (vm: string, kind: string) => Promise<void>) => {
    for (const kind of ['guestlink', 'qemu-ga'])
      test(`${name} (${kind})`, { skip: kind === 'qemu-ga' && !HAVE_QEMU_GA ? 'qemu-ga not installed' : false }, () =>
        fn(vms[kind] as string, kind),
      );
  };

  each('ping: ok with the round trip; json has ok and ms', async (vm) => {
    const t = await runCli(['ping', vm]);
    assert.equal(t.status, 0, t.stderr);
    assert.match(t.stdout, /^ok \(\d+(\.\d)? ms\)\n$/);
    const j = JSON.parse((await runCli(['ping', vm, '-o', 'json'])).stdout);
    assert.equal(j.ok, true);
    assert.equal(typeof j.ms, 'number');
  });

  each('info: version and the command table; yaml lists supported_commands', async (vm) => {
    const t = await runCli(['info', vm]);
    assert.equal(t.status, 0, t.stderr);
    assert.match(t.stdout, /^version: \S+\nCOMMAND\s+ENABLED\s+SUCCESS-RESPONSE\n/);
    assert.match(t.stdout, /^guest-ping\s+true\s+true$/m);
    assert.match(t.stdout, /^guest-shutdown\s+\S+\s+false$/m);
    const y = await runCli(['info', vm, '-o', 'yaml']);
    assert.match(y.stdout, /^supported_commands:\n {2}- /m);
  });

  each('osinfo: the same fields as /etc/os-release', async (vm) => {
    const r = await runCli(['osinfo', vm, '-o', 'json']);
    assert.equal(r.status, 0, r.stderr);
    const os = JSON.parse(r.stdout);
    const id = /^ID=(.*)$/m.exec(readFileSync('/etc/os-release', 'utf8'))?.[1]?.replace(/"/g, '');
    assert.equal(os.id, id);
    assert.match((await runCli(['osinfo', vm])).stdout, /^kernel-release\s+\S+/m);
  });

  each('ips: loopback among the rows', async (vm) => {
    const r = await runCli(['ips', vm]);
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /^INTERFACE\s+MAC\s+ADDRESS\n/);
    assert.match(r.stdout, /^lo\s+\S+\s+127\.0\.0\.1\/8$/m);
  });

  each('fsinfo: the root filesystem', async (vm) => {
    const r = await runCli(['fsinfo', vm, '-o', 'json']);
    assert.equal(r.status, 0, r.stderr);
    assert.ok(
      JSON.parse(r.stdout).some((f: { mountpoint: string }) => f.mountpoint === '/'),
      r.stdout,
    );
  });

  each('time: nanoseconds exact in json, read between our two readings of the same clock', async (vm) => {
    // The agent runs on this machine: its clock is ours, so the reply lies between a reading before and after.
    const before = BigInt(Date.now()) * 1_000_000n;
    const r = await runCli(['time', vm, '-o', 'json']);
    const after = BigInt(Date.now() + 1) * 1_000_000n;
    assert.equal(r.status, 0, r.stderr);
    const ns = /"ns": (\d+)/.exec(r.stdout)?.[1] as string;
    assert.ok(ns.length >= 19, 'nanoseconds, printed without loss');
    assert.ok(BigInt(ns) >= before && BigInt(ns) < after, `${ns} within [${before}, ${after})`);
  });

  each('exec: stdout and stderr apart, the exit status passed through', async (vm) => {
    const r = await runCli(['exec', vm, '--', '/bin/sh', '-c', 'echo out; echo err >&2; exit 7']);
    assert.equal(r.status, 7, r.stderr);
    assert.equal(r.stdout, 'out\n');
    assert.equal(r.stderr, 'err\n');
    const ok = await runCli(['exec', vm, '--', '/bin/true']);
    assert.equal(ok.status, 0, ok.stderr);
  });

  each('exec: a program killed by a signal exits 128+N and says which signal', async (vm) => {
    const r = await runCli(['exec', vm, '--', '/bin/sh', '-c', 'kill -TERM $$']);
    assert.equal(r.status, 128 + 15, r.stderr);
    assert.match(r.stderr, /killed by signal 15 \(SIGTERM\)/);
    const k = await runCli(['exec', vm, '--', '/bin/sh', '-c', 'kill -KILL $$']);
    assert.equal(k.status, 137);
  });

  each('exec -i: stdin reaches the program; binary output arrives intact', async (vm) => {
    const input = Buffer.from([0, 1, 2, 250, 255, 10, 65]);
    const r = await runCli(['exec', '-i', vm, '--', '/bin/cat'], { input });
    assert.equal(r.status, 0, r.stderr);
    assert.deepEqual(r.raw, input);
  });

  each("exec -e: the environment given replaces the agent's (guestlink adds LANG=C)", async (vm, kind) => {
    const r = await runCli(['exec', '-e', 'FOO=bar', '-e', 'PATH=/usr/bin:/bin', vm, '--', '/usr/bin/env']);
    assert.equal(r.status, 0, r.stderr);
    const want = kind === 'guestlink' ? ['FOO=bar', 'LANG=C', 'PATH=/usr/bin:/bin'] : ['FOO=bar', 'PATH=/usr/bin:/bin'];
    assert.deepEqual(r.stdout.trim().split('\n').sort(), want);
  });

  each('exec: a program that does not exist fails with 255 and the agent error', async (vm) => {
    const r = await runCli(['exec', vm, '--', '/nonexistent/prog']);
    assert.equal(r.status, 255);
    assert.match(r.stderr, /the agent answered GenericError/);
  });

  // How many status requests that costs is counted under mock timers in src/host/exec.test.ts.
  each('exec: a program that outlives several status polls is waited for, exit 0', async (vm) => {
    const r = await runCli(['exec', vm, '--', '/bin/sh', '-c', 'sleep 1.5; echo slept']);
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stdout, 'slept\n');
  });

  each('call: generic command with typed --arg', async (vm) => {
    const r = await runCli(['call', vm, 'guest-sync', '--arg', 'id=9223372036854775807']);
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stdout, '9223372036854775807\n');
    const bad = await runCli(['call', vm, 'guest-sync', '--arg', 'nope=1']);
    assert.equal(bad.status, 2);
    assert.match(bad.stderr, /guest-sync takes no argument "nope" \(it takes: id\)/);
  });

  test('shutdown and reboot (guestlink, dry-run power): recorded, no reply awaited', async () => {
    const vm = vms.guestlink as string;
    const s = await runCli(['shutdown', vm, '--timeout', '1']);
    assert.equal(s.status, 0, s.stderr);
    assert.equal(s.stdout, 'shutdown requested (powerdown)\n');
    const r = await runCli(['reboot', vm, '--timeout', '1']);
    assert.equal(r.status, 0, r.stderr);
    const h = await runCli(['shutdown', vm, '--mode', 'halt', '--timeout', '1']);
    assert.equal(h.status, 0, h.stderr);
    const log = readFileSync(path.join(peers.dir, 'gst', 'guestlink-power.jsonl'), 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l).mode);
    assert.deepEqual(log.slice(-3), ['powerdown', 'reboot', 'halt']);
  });

  test('shutdown (qemu-ga with guest-shutdown blocked, so this machine is safe): exit 1 with the agent error', {
    skip: !HAVE_QEMU_GA,
  }, async () => {
    const r = await runCli(['shutdown', vms['qemu-ga'] as string, '--timeout', '1']);
    assert.equal(r.status, 1);
    assert.match(r.stderr, /CommandNotFound: Command guest-shutdown has been disabled/);
  });

  test('usage errors exit 2 and unreachable agents 3', async () => {
    assert.equal((await runCli(['ping'])).status, 2);
    assert.equal((await runCli(['frobnicate', 'unix:/x'])).status, 2);
    assert.equal((await runCli(['ping', 'ftp://x'])).status, 2);
    assert.equal((await runCli(['exec', vms.guestlink as string, '/bin/true'])).status, 2);
    assert.equal((await runCli(['ping', vms.guestlink as string, '--wait'])).status, 2);
    const gone = await runCli(['ping', `unix:${path.join(peers.dir, 'none.sock')}`]);
    assert.equal(gone.status, 3);
    assert.match(gone.stderr, /cannot connect/);
  });
});
