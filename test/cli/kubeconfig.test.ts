// guestlink kubeconfig against guestlink's agent (file-read, and exec of /bin/cat when file access is
// not allowed) and the real qemu-ga: server rewrite to the VM's reported IP or --api-server, --wait
// while the file appears later, 0600 files, merging into an existing kubeconfig (checked by kubectl).
// What a hostile guest's kubeconfig can and cannot do is in test/security/kubeconfig-*.test.ts.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import YAML from 'yaml';
import { HAVE_QEMU_GA, makeTempDir, type Peer, type Peers, QEMU_BLOCK, startGuestlink, startPeers } from '../peer/harness.js';
import { runCli, startCli } from './run-cli.js';

/** What k3s writes to /etc/rancher/k3s/k3s.yaml (certificates shortened). */
const K3S = `apiVersion: v1
clusters:
- cluster:
    certificate-authority-data: LS0tLS1CRUdJTiBDRVJUSUZJQ0FURS0tLS0tCg==
    server: https://127.0.0.1:6443
  name: default
contexts:
- context:
    cluster: default
    user: default
  name: default
current-context: default
kind: Config
preferences: {}
users:
- name: default
  user:
    client-certificate-data: LS0tLS1CRUdJTiBDRVJUSUZJQ0FURS0tLS0tCg==
    client-key-data: LS0tLS1CRUdJTiBFQyBQUklWQVRFIEtFWS0tLS0tCg==
`;
const KUBECTL = ['/usr/bin/kubectl', '/usr/local/bin/kubectl'].find((p) => existsSync(p));
// Under CI a missing kubectl fails the test that needs it; elsewhere it is skipped, saying why.
const NO_KUBECTL = !KUBECTL && process.env.CI !== 'true' ? 'kubectl is not installed (apt-get install kubectl)' : false;

describe('guestlink kubeconfig', () => {
  let peers: Peers;
  let catOnly: Peer;
  let guest: string;
  let vm: string;
  let vmIp: string;
  before(async () => {
    guest = path.join(makeTempDir(), 'guest');
    mkdirSync(guest);
    peers = await startPeers({ agentArgs: ['--allow-file-read', `${guest}/`], block: QEMU_BLOCK });
    catOnly = await startGuestlink(makeTempDir(), ['--allow-exec', '/bin/cat,/usr/bin/cat']);
    vm = `unix:${peers.agent?.socket}`;
    writeFileSync(path.join(guest, 'k3s.yaml'), K3S);
    // The address the CLI should pick: the VM's first global IPv4, as `guestlink ips` reports it.
    const ips = JSON.parse((await runCli(['ips', vm, '-o', 'json'])).stdout) as {
      name: string;
      'ip-addresses'?: { 'ip-address': string; 'ip-address-type': string }[];
    }[];
    vmIp = ips
      .flatMap((i) => i['ip-addresses'] ?? [])
      .find((a) => a['ip-address-type'] === 'ipv4' && !a['ip-address'].startsWith('127.') && !a['ip-address'].startsWith('169.254.'))?.[
      'ip-address'
    ] as string;
    assert.ok(vmIp, 'this machine reports a global IPv4 address');
  });
  after(async () => {
    await catOnly?.stop();
    await peers?.stop();
  });

  test("k3s kubeconfig via guest-file-read: the loopback server becomes the VM's IP, the rest is kept", async () => {
    const r = await runCli(['kubeconfig', vm, '--path', path.join(guest, 'k3s.yaml')]);
    assert.equal(r.status, 0, r.stderr);
    const k = YAML.parse(r.stdout);
    assert.equal(k.clusters[0].cluster.server, `https://${vmIp}:6443`);
    assert.equal(k.users[0].user['client-key-data'], 'LS0tLS1CRUdJTiBFQyBQUklWQVRFIEtFWS0tLS0tCg==');
    assert.match(r.stderr, /via file-read\); server https:\/\/127\.0\.0\.1:6443 -> https:\/\/.*:6443/);
  });

  test('--api-server: a URL replaces the server, a host keeps the port', async () => {
    const url = await runCli(['kubeconfig', vm, '--path', path.join(guest, 'k3s.yaml'), '--api-server', 'https://k8s.example:443']);
    assert.equal(YAML.parse(url.stdout).clusters[0].cluster.server, 'https://k8s.example:443');
    const host = await runCli(['kubeconfig', vm, '--path', path.join(guest, 'k3s.yaml'), '--api-server', '10.9.8.7']);
    assert.equal(YAML.parse(host.stdout).clusters[0].cluster.server, 'https://10.9.8.7:6443');
  });

  test('--wait: the file appears once the CLI says it waits; the CLI then succeeds', async () => {
    const file = path.join(guest, 'later', 'admin.kubeconfig');
    const { child, result } = startCli(['kubeconfig', vm, '--path', file, '--wait', '--wait-timeout', '30']);
    // The file is written only after the CLI has reported that it is waiting (it looked, and found nothing).
    await new Promise<void>((resolve) => {
      let err = '';
      child.stderr?.on('data', (d: Buffer) => {
        err += d.toString('utf8');
        if (/waiting for the kubeconfig on unix:/.test(err)) resolve();
      });
      void result.then(() => resolve());
    });
    mkdirSync(path.dirname(file));
    writeFileSync(file, K3S.replace('127.0.0.1:6443', '127.0.0.1:6444'));
    const r = await result;
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stderr, /waiting for the kubeconfig on unix:/);
    assert.equal(YAML.parse(r.stdout).clusters[0].cluster.server, `https://${vmIp}:6444`);
  });

  test('--wait gives up after --wait-timeout with exit 3', async () => {
    const r = await runCli(['kubeconfig', vm, '--path', path.join(guest, 'never.yaml'), '--wait', '--wait-timeout', '1']);
    assert.equal(r.status, 3);
    assert.match(r.stderr, /no kubeconfig appeared within 1 s/);
  });

  test('without file access the agent runs /bin/cat (guest-exec) instead', async () => {
    const r = await runCli(['kubeconfig', `unix:${catOnly.socket}`, '--path', path.join(guest, 'k3s.yaml')]);
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stderr, /via exec/);
    assert.equal(YAML.parse(r.stdout).clusters[0].cluster.server, `https://${vmIp}:6443`);
  });

  test('the default places (KubeSolo, k3s, kubeadm) are named when none exists', {
    skip: existsSync('/etc/rancher/k3s/k3s.yaml') || existsSync('/etc/kubernetes/admin.conf'),
  }, async () => {
    const r = await runCli(['kubeconfig', `unix:${catOnly.socket}`]);
    assert.equal(r.status, 1);
    assert.match(
      r.stderr,
      /\/var\/lib\/kubesolo\/pki\/admin\/admin\.kubeconfig, \/etc\/rancher\/k3s\/k3s\.yaml, \/etc\/kubernetes\/admin\.conf/,
    );
  });

  test('--file writes 0600; --merge adds a renamed context to an existing kubeconfig (kubectl reads it)', {
    skip: NO_KUBECTL,
  }, async () => {
    assert.ok(KUBECTL, 'kubectl is required under CI');
    const dir = makeTempDir();
    const file = path.join(dir, 'config');
    const w = await runCli(['kubeconfig', vm, '--path', path.join(guest, 'k3s.yaml'), '--file', file]);
    assert.equal(w.status, 0, w.stderr);
    assert.equal(statSync(file).mode & 0o777, 0o600);
    assert.match(w.stdout, /^wrote .*config \(0600\)/);
    // An existing config with another cluster, world-readable: the merge keeps it and tightens the mode.
    const existing = path.join(dir, 'merged');
    writeFileSync(existing, K3S.replaceAll('default', 'other').replace('127.0.0.1', '192.0.2.99'), { mode: 0o644 });
    const m = await runCli(['kubeconfig', vm, '--path', path.join(guest, 'k3s.yaml'), '--merge', '--name', 'vm1', '--set-current'], {
      env: { KUBECONFIG: existing },
    });
    assert.equal(m.status, 0, m.stderr);
    assert.equal(statSync(existing).mode & 0o777, 0o600);
    const k = YAML.parse(readFileSync(existing, 'utf8'));
    assert.deepEqual(k.contexts.map((c: { name: string }) => c.name).sort(), ['other', 'vm1']);
    assert.equal(k['current-context'], 'vm1');
    assert.deepEqual(k.contexts.find((c: { name: string }) => c.name === 'vm1').context, { cluster: 'vm1', user: 'vm1' });
    assert.equal(k.clusters.find((c: { name: string }) => c.name === 'other').cluster.server, 'https://192.0.2.99:6443');
    const names = execFileSync(KUBECTL, ['--kubeconfig', existing, 'config', 'get-contexts', '-o', 'name'], { encoding: 'utf8' });
    assert.deepEqual(names.trim().split('\n').sort(), ['other', 'vm1']);
    const server = execFileSync(
      KUBECTL,
      ['--kubeconfig', existing, 'config', 'view', '--minify', '-o', 'jsonpath={.clusters[0].cluster.server}'],
      { encoding: 'utf8' },
    );
    assert.equal(server, `https://${vmIp}:6443`);
    // Merging again never replaces what is there: the second copy gets a prefix (and stderr says so).
    const again = await runCli(['kubeconfig', vm, '--path', path.join(guest, 'k3s.yaml'), '--merge', '--name', 'vm1', '--file', existing]);
    assert.equal(again.status, 0, again.stderr);
    assert.match(again.stderr, /merged as guestlink-\.\.\./);
    assert.deepEqual(
      YAML.parse(readFileSync(existing, 'utf8')).contexts.map((c: { name: string }) => c.name),
      ['other', 'vm1', 'guestlink-vm1'],
    );
  });

  test('qemu-ga: the same fetch through its guest-file-read', { skip: !HAVE_QEMU_GA }, async () => {
    const r = await runCli([
      'kubeconfig',
      `unix:${peers.qemu?.socket}`,
      '--path',
      path.join(guest, 'k3s.yaml'),
      '-o',
      'json',
      '--file',
      path.join(makeTempDir(), 'q'),
    ]);
    assert.equal(r.status, 0, r.stderr);
    const rep = JSON.parse(r.stdout);
    assert.equal(rep.via, 'file-read');
    assert.deepEqual(rep.servers, [{ from: 'https://127.0.0.1:6443', to: `https://${vmIp}:6443` }]);
  });
});
