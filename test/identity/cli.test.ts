// The host CLI against the management endpoint: tls://HOST:PORT and node://NODE take the client
// certificate, key and CA from the user's kubeconfig (--kubeconfig, --context), node:// finds the
// address on the Node object and accepts only that node's certificate, and fleet mode runs over
// node://* and a label selector. The real agent, the API double and bin/guestlink.js.
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { runCli } from '../cli/run-cli.js';
import type { KubeApiDouble } from '../doubles/kube-api.js';
import { type RunningEndpoint, startCluster, startEndpointAgent, until, userKubeconfig } from './harness.js';

describe('guestlink CLI over tls:// and node://', { timeout: 120_000 }, () => {
  let double: KubeApiDouble;
  let ep: RunningEndpoint;
  let operator: string;
  let viewer: string;

  before(async () => {
    double = await startCluster({ selfApprove: true });
    // kubectl users can usually read Nodes; the double's users get exactly that.
    double.rbac.add({
      kind: 'ClusterRole',
      metadata: { name: 'node-reader' },
      rules: [{ apiGroups: [''], resources: ['nodes'], verbs: ['get', 'list'] }],
    });
    double.rbac.bind('node-reader', { kind: 'Group', name: 'system:authenticated' });
    // n2 says it is at the same address, but the certificate there is n1's.
    double.addNode('n2', { addresses: [{ type: 'InternalIP', address: '127.0.0.1' }], labels: { pool: 'b' } });
    (double.nodes.get('n1') as { metadata: { labels: Record<string, string> } }).metadata.labels.pool = 'a';
    double.certificates.tokens.set('ci-token', { user: 'ci', groups: ['viewers'], audiences: ['guestlink'] });
    ep = await startEndpointAgent(double, ['--csr-approve', 'self', '--listen-tokens']);
    assert.ok(await until(() => ep.lines().find((l) => l.msg === 'management endpoint serving')), ep.agent.stderr());
    operator = path.join(ep.dir, 'operator.kubeconfig');
    viewer = path.join(ep.dir, 'viewer.kubeconfig');
    writeFileSync(operator, userKubeconfig(double, double.clusterCa.client('operator')), { mode: 0o600 });
    writeFileSync(viewer, userKubeconfig(double, double.clusterCa.client('vic', ['viewers']), 'viewing'), { mode: 0o600 });
  });
  after(async () => {
    await ep?.agent.stop();
    await double?.stop();
  });

  test('node://n1: the address from the Node object, credentials from the kubeconfig', async () => {
    const r = await runCli(['ping', `node://n1:${ep.port}`, '--kubeconfig', operator]);
    assert.equal(r.status, 0, r.stderr);
    const info = await runCli(['info', `node://n1:${ep.port}`, '-o', 'json'], { env: { KUBECONFIG: viewer } });
    assert.equal(info.status, 0, info.stderr);
    assert.equal(typeof JSON.parse(info.stdout).version, 'string');
  });

  test('tls://127.0.0.1:PORT: the certificate is checked against the IP; --context picks the user', async () => {
    const r = await runCli(['ips', `tls://127.0.0.1:${ep.port}`, '--kubeconfig', viewer, '--context', 'viewing']);
    assert.equal(r.status, 0, r.stderr);
    const wrongContext = await runCli(['ping', `tls://127.0.0.1:${ep.port}`, '--kubeconfig', viewer, '--context', 'nope']);
    assert.equal(wrongContext.status, 2, wrongContext.stderr);
    assert.match(wrongContext.stderr, /context "nope" is not defined/);
  });

  test('a viewer cannot reboot: exit 1 and the missing permission', async () => {
    const r = await runCli(['reboot', `node://n1:${ep.port}`, '--kubeconfig', viewer]);
    assert.equal(r.status, 1, r.stderr);
    assert.match(r.stderr, /nodes\/guestlink update/);
  });

  test("node:// refuses a certificate that is not that node's", async () => {
    const r = await runCli(['ping', `node://n2:${ep.port}`, '--kubeconfig', operator]);
    assert.equal(r.status, 3, r.stderr);
    assert.match(r.stderr, /n2\. is not in the cert's altnames|certificate for CN=system:node:n1, not for node n2/);
  });

  test('fleet: node://*:PORT and node-selector:SELECTOR:PORT', async () => {
    const all = await runCli(['ping', `node://*:${ep.port}`, '--kubeconfig', operator, '-o', 'json']);
    assert.equal(all.status, 4, all.stderr);
    const results = JSON.parse(all.stdout).results as { vm: string; ok: boolean; error?: string }[];
    assert.deepEqual(
      results.map((x) => [x.vm, x.ok]),
      [
        [`node://n1:${ep.port}`, true],
        [`node://n2:${ep.port}`, false],
      ],
    );
    const picked = await runCli(['ping', `node-selector:pool=a:${ep.port}`, '--kubeconfig', operator, '-o', 'json']);
    assert.equal(picked.status, 0, picked.stderr);
    assert.deepEqual(
      (JSON.parse(picked.stdout).results as { vm: string }[]).map((x) => x.vm),
      [`node://n1:${ep.port}`],
    );
  });

  test('a kubeconfig user without a client certificate is told what to do', async () => {
    const tokenOnly = path.join(ep.dir, 'token.kubeconfig');
    writeFileSync(
      tokenOnly,
      userKubeconfig(double, double.clusterCa.client('x')).replace(/client-certificate-data: .*\n\s*client-key-data: .*\n/, 'token: abc\n'),
    );
    const r = await runCli(['ping', `tls://127.0.0.1:${ep.port}`, '--kubeconfig', tokenOnly]);
    assert.equal(r.status, 2, r.stderr);
    assert.match(r.stderr, /no client certificate.*GUESTLINK_TOKEN/);
    // With a token minted for the endpoint's audience it works (the kubeconfig's own token is never sent).
    const withToken = await runCli(['info', `tls://127.0.0.1:${ep.port}`, '--kubeconfig', tokenOnly], {
      env: { GUESTLINK_TOKEN: 'ci-token' },
    });
    assert.equal(withToken.status, 0, withToken.stderr);
    const reviewed = double.certificates.reviews.filter((x) => x.kind === 'TokenReview');
    assert.equal(reviewed.length, 1, 'one TokenReview, for GUESTLINK_TOKEN; the kubeconfig token "abc" was never sent');
    const wrong = await runCli(['info', `tls://127.0.0.1:${ep.port}`, '--kubeconfig', tokenOnly], { env: { GUESTLINK_TOKEN: 'nope' } });
    assert.equal(wrong.status, 3, wrong.stderr);
    assert.match(wrong.stderr, /the token was refused/);
  });
});
