// The pve:// connector through the CLI against the Proxmox VE API double (test/doubles/pve-api.ts),
// which forwards to real guestlink agents: the agent endpoints, exec, file-read/-write and their
// size limits, TLS verification, token auth, power, and fleet mode over a node and a pool.
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import YAML from 'yaml';
import { runCli } from '../cli/run-cli.js';
import { type PveApiDouble, startPveApi } from '../doubles/pve-api.js';
import { makeTempDir, type Peer, startGuestlink } from '../peer/harness.js';

const TOKEN = 'root@pam!guestlink=5e1f0c2a-97c4-4f5e-9d0b-6f2d1a3b4c5d';

describe('pve:// through the Proxmox VE API double', () => {
  let api: PveApiDouble;
  let a: Peer;
  let b: Peer;
  let dir: string;
  let files: string;
  let env: Record<string, string>;
  let ca: string[];
  before(async () => {
    dir = makeTempDir();
    files = path.join(dir, 'guest');
    mkdirSync(files);
    const allow = ['--allow-exec', '*', '--allow-file-read', `${files}/`, '--allow-file-write', `${files}/`];
    mkdirSync(path.join(dir, 'a'));
    mkdirSync(path.join(dir, 'b'));
    [a, b] = await Promise.all([startGuestlink(path.join(dir, 'a'), allow), startGuestlink(path.join(dir, 'b'), allow)]);
    api = await startPveApi({
      dir,
      token: TOKEN,
      vms: [
        { node: 'pve1', vmid: 100, socket: a.socket },
        { node: 'pve1', vmid: 101, socket: b.socket, pool: 'k8s' },
        { node: 'pve1', vmid: 102 }, // stopped
        { node: 'pve1', vmid: 103, socket: path.join(dir, 'no-agent.sock'), pool: 'k8s' }, // running, agent not started
      ],
    });
    env = { PVE_TOKEN: TOKEN, PVE_URL: api.url };
    ca = ['--ca', api.caFile];
  });
  after(async () => {
    await api?.stop();
    await Promise.all([a?.stop(), b?.stop()]);
  });

  test('ping, info, osinfo, ips, fsinfo, time through the agent endpoints, each with its method', async () => {
    for (const verb of ['ping', 'info', 'osinfo', 'ips', 'fsinfo', 'time']) {
      const r = await runCli([verb, 'pve://pve1/100', ...ca, '-o', 'json'], { env });
      assert.equal(r.status, 0, `${verb}: ${r.stderr}`);
      JSON.parse(r.stdout);
    }
    const seen = api.requests.map((q) => `${q.method} ${q.path}`);
    for (const want of [
      'POST /nodes/pve1/qemu/100/agent/ping',
      'GET /nodes/pve1/qemu/100/agent/info',
      'GET /nodes/pve1/qemu/100/agent/get-osinfo',
      'GET /nodes/pve1/qemu/100/agent/network-get-interfaces',
      'GET /nodes/pve1/qemu/100/agent/get-fsinfo',
      'GET /nodes/pve1/qemu/100/agent/get-time',
    ])
      assert.ok(seen.includes(want), `${want} in ${seen.join(', ')}`);
    const t = JSON.parse((await runCli(['time', 'pve://pve1/100', ...ca, '-o', 'json'], { env })).stdout);
    assert.ok(Math.abs(t.offsetMs) < 5000);
  });

  test('TLS is verified by default; --ca trusts the node certificate; --insecure skips with a warning', async () => {
    const r = await runCli(['ping', 'pve://pve1/100'], { env });
    assert.equal(r.status, 3);
    assert.match(r.stderr, /TLS verification of 127\.0\.0\.1:\d+ failed .*--ca FILE/);
    const i = await runCli(['ping', 'pve://pve1/100', '--insecure'], { env });
    assert.equal(i.status, 0, i.stderr);
    assert.match(i.stderr, /--insecure: the Proxmox VE certificate is not verified/);
    assert.equal((await runCli(['ping', 'pve://pve1/100', '--insecure', ...ca], { env })).status, 2);
  });

  test('a wrong token is a 401 (exit 3); no token or URL is a usage error', async () => {
    const r = await runCli(['ping', 'pve://pve1/100', ...ca], { env: { ...env, PVE_TOKEN: 'root@pam!guestlink=wrong' } });
    assert.equal(r.status, 3);
    assert.match(r.stderr, /authentication failed \(HTTP 401 authentication failure\)/);
    const none = await runCli(['ping', 'pve://pve1/100', ...ca], { env: { PVE_URL: api.url } });
    assert.equal(none.status, 2);
    assert.match(none.stderr, /PVE_TOKEN/);
    const nourl = await runCli(['ping', 'pve://pve1/100'], { env: { PVE_TOKEN: TOKEN } });
    assert.equal(nourl.status, 2);
  });

  test('unknown VM and a VM whose agent is not running: Proxmox messages, exit 3', async () => {
    const r = await runCli(['ping', 'pve://pve1/999', ...ca], { env });
    assert.equal(r.status, 3);
    assert.match(r.stderr, /Configuration file 'nodes\/pve1\/qemu-server\/999\.conf' does not exist/);
    const dead = await runCli(['ping', 'pve://pve1/103', ...ca], { env });
    assert.equal(dead.status, 3);
    assert.match(dead.stderr, /QEMU guest agent is not running/);
  });

  test('exec through agent/exec + exec-status: status, signals, binary stdin and stdout', async () => {
    const r = await runCli(['exec', 'pve://pve1/100', ...ca, '--', '/bin/sh', '-c', 'echo out; echo err >&2; exit 3'], { env });
    assert.equal(r.status, 3);
    assert.equal(r.stdout, 'out\n');
    assert.equal(r.stderr, 'err\n');
    const k = await runCli(['exec', 'pve://pve1/100', ...ca, '--', '/bin/sh', '-c', 'kill -9 $$'], { env });
    assert.equal(k.status, 137);
    const input = Buffer.from([0, 200, 255, 10, 0xe2, 0x82, 0xac]);
    const c = await runCli(['exec', '-i', 'pve://pve1/100', ...ca, '--', '/bin/cat'], { env, input });
    assert.equal(c.status, 0, c.stderr);
    assert.deepEqual(c.raw, input);
    const seen = api.requests.map((q) => `${q.method} ${q.path}`);
    assert.ok(seen.includes('POST /nodes/pve1/qemu/100/agent/exec') && seen.includes('GET /nodes/pve1/qemu/100/agent/exec-status'));
  });

  test('cp within the API limits, checksummed; beyond them exit 6 with the reason', async () => {
    const small = randomBytes(40_000);
    const src = path.join(dir, 'small.bin');
    writeFileSync(src, small);
    const up = await runCli(['cp', src, `pve://pve1/100:${files}/p.bin`, ...ca, '-o', 'json'], { env });
    assert.equal(up.status, 0, up.stderr);
    assert.equal(JSON.parse(up.stdout).verified, 'sha256');
    assert.ok(readFileSync(path.join(files, 'p.bin')).equals(small));
    const down = await runCli(['cp', `pve://pve1/100:${files}/p.bin`, path.join(dir, 'p.back'), ...ca, '-o', 'json'], { env });
    assert.equal(down.status, 0, down.stderr);
    assert.equal(JSON.parse(down.stdout).sha256, createHash('sha256').update(small).digest('hex'));
    assert.ok(readFileSync(path.join(dir, 'p.back')).equals(small));
    writeFileSync(path.join(dir, 'big.bin'), randomBytes(100_000));
    const big = await runCli(['cp', path.join(dir, 'big.bin'), `pve://pve1/100:${files}/big.bin`, ...ca], { env });
    assert.equal(big.status, 6);
    assert.match(big.stderr, /writes at most 46080 per file/);
    writeFileSync(path.join(files, 'huge.bin'), Buffer.alloc((16 << 20) + 1));
    const huge = await runCli(['cp', `pve://pve1/100:${files}/huge.bin`, dir, ...ca], { env });
    assert.equal(huge.status, 6);
    assert.match(huge.stderr, /larger than the 16777216 bytes the Proxmox VE API returns/);
  });

  test('kubeconfig through agent/file-read, server rewritten to the VM address', async () => {
    writeFileSync(
      path.join(files, 'admin.kubeconfig'),
      'apiVersion: v1\nkind: Config\nclusters:\n- name: default\n  cluster:\n    server: https://127.0.0.1:6443\n',
    );
    const r = await runCli(['kubeconfig', 'pve://pve1/100', ...ca, '--path', path.join(files, 'admin.kubeconfig')], { env });
    assert.equal(r.status, 0, r.stderr);
    assert.match(YAML.parse(r.stdout).clusters[0].cluster.server, /^https:\/\/[0-9.]+:6443$/);
    assert.ok(api.requests.some((q) => q.path.endsWith('/agent/file-read')));
  });

  test('shutdown via agent/shutdown, reboot via status/reboot; call of an unexposed command is CommandNotFound', async () => {
    const s = await runCli(['shutdown', 'pve://pve1/100', ...ca], { env });
    assert.equal(s.status, 0, s.stderr);
    const r = await runCli(['reboot', 'pve://pve1/100', ...ca], { env });
    assert.equal(r.status, 0, r.stderr);
    const seen = api.requests.map((q) => `${q.method} ${q.path}`);
    assert.ok(seen.includes('POST /nodes/pve1/qemu/100/agent/shutdown') && seen.includes('POST /nodes/pve1/qemu/100/status/reboot'));
    const log = readFileSync(path.join(dir, 'a', 'gst', 'guestlink-power.jsonl'), 'utf8')
      .trim()
      .split('\n');
    assert.ok(log.length >= 2, 'the agent received both power requests');
    const c = await runCli(['call', 'pve://pve1/100', 'guest-get-disks', ...ca], { env });
    assert.equal(c.status, 1);
    assert.match(c.stderr, /does not pass it through/);
  });

  test('fleet: pve://pve1/* takes the running VMs, pve-pool:k8s the pool members; a dead agent fails the run', async () => {
    const node = await runCli(['ping', 'pve://pve1/*', ...ca, '-o', 'json'], { env });
    assert.equal(node.status, 4, node.stderr);
    const n = JSON.parse(node.stdout);
    assert.deepEqual(
      n.results.map((x: { vm: string; ok: boolean }) => [x.vm, x.ok]),
      [
        ['pve://pve1/100', true],
        ['pve://pve1/101', true],
        ['pve://pve1/103', false],
      ],
    );
    const pool = await runCli(['osinfo', 'pve-pool:k8s', ...ca], { env });
    assert.equal(pool.status, 4);
    assert.match(pool.stdout, /^pve:\/\/pve1\/101\s+ok\s/m);
    assert.match(pool.stdout, /^pve:\/\/pve1\/103\s+FAILED\s+\d+ ms\s+Proxmox VE API: HTTP 500 QEMU guest agent is not running$/m);
    assert.match(pool.stdout, /^1\/2 ok in /m);
  });
});
