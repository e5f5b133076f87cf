import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { detectKubeMode, serviceAddress } from './detect.js';
import { loadKubeconfig } from './kubeconfig.js';

function dir(t: { after(f: () => void): void }) {
  const d = mkdtempSync(path.join(os.tmpdir(), 'guestlink-kc-'));
  t.after(() => rmSync(d, { recursive: true, force: true }));
  return d;
}

test('kubeconfig: current context, relative file paths, tokenFile, client certificate data', async (t) => {
  const d = dir(t);
  mkdirSync(path.join(d, 'pki'));
  writeFileSync(path.join(d, 'pki/ca.crt'), 'CA PEM');
  writeFileSync(path.join(d, 'token'), 'tok-1\n');
  writeFileSync(
    path.join(d, 'config'),
    `apiVersion: v1
current-context: b
clusters:
  - {name: k1, cluster: {server: "https://10.0.0.1:6443", certificate-authority: pki/ca.crt, tls-server-name: api.local}}
  - {name: k2, cluster: {server: "https://10.0.0.2:6443", insecure-skip-tls-verify: true}}
contexts:
  - {name: a, context: {cluster: k2, user: cert}}
  - {name: b, context: {cluster: k1, user: file}}
users:
  - {name: file, user: {tokenFile: token}}
  - {name: cert, user: {client-certificate-data: ${Buffer.from('CERT').toString('base64')}, client-key-data: ${Buffer.from('KEY').toString('base64')}}}
`,
  );
  const b = await loadKubeconfig(path.join(d, 'config'));
  assert.equal(b.server, 'https://10.0.0.1:6443');
  assert.equal(String(b.ca), 'CA PEM');
  assert.equal(b.tlsServerName, 'api.local');
  assert.equal(b.token?.(), 'tok-1');
  // A second file in the list overrides nothing that the first sets, but can add contexts.
  writeFileSync(path.join(d, 'other'), 'current-context: a\ncontexts: [{name: b, context: {cluster: k2, user: cert}}]\n');
  const merged = await loadKubeconfig(
    `${path.join(d, 'config')}${path.delimiter}${path.join(d, 'missing')}${path.delimiter}${path.join(d, 'other')}`,
  );
  assert.equal(merged.context, 'b');
  assert.equal(merged.server, 'https://10.0.0.1:6443');
  writeFileSync(path.join(d, 'first'), 'current-context: a\n');
  const a = await loadKubeconfig(`${path.join(d, 'first')}${path.delimiter}${path.join(d, 'config')}`);
  assert.equal(a.context, 'a');
  assert.equal(a.insecureSkipTlsVerify, true);
  assert.equal(String(a.cert), 'CERT');
  assert.equal(String(a.key), 'KEY');
});

test('kubeconfig errors say what is wrong', async (t) => {
  const d = dir(t);
  const file = path.join(d, 'c');
  await assert.rejects(loadKubeconfig(file), /cannot read kubeconfig/);
  writeFileSync(file, 'clusters: []\n');
  await assert.rejects(loadKubeconfig(file), /has no current-context/);
  writeFileSync(file, 'current-context: x\n');
  await assert.rejects(loadKubeconfig(file), /context "x" is not defined/);
  writeFileSync(
    file,
    'current-context: x\ncontexts: [{name: x, context: {cluster: k, user: u}}]\nclusters: [{name: k, cluster: {server: "https://h"}}]\nusers: [{name: u, user: {auth-provider: {name: oidc}}}]\n',
  );
  await assert.rejects(loadKubeconfig(file), /auth-provider plugin, which guestlink does not run/);
});

test('a kubeconfig that is not YAML: line, column and kind of error, never its contents', async (t) => {
  const file = path.join(dir(t), 'c');
  writeFileSync(file, 'users:\n- name: u\n  user:\n    token: sk-live-0123456789\n   client-key-data: c2VjcmV0LWtleQ==\n');
  await assert.rejects(loadKubeconfig(file), (err: Error) => {
    assert.match(err.message, /is not valid YAML: BAD_INDENT at line 5, column 1 \(the contents are not shown/);
    assert.doesNotMatch(err.message, /sk-live|c2VjcmV0|token|client-key/);
    return true;
  });
});

test('--kube auto: in-cluster only with token, service address and NODE_NAME; a kubeconfig only when given to guestlink', (t) => {
  const d = dir(t);
  const sa = { serviceAccountDir: d, serviceAddress: '10.96.0.1:443', nodeName: 'n1' };
  assert.equal(detectKubeMode({ kube: 'auto', ...sa }), undefined, 'no token file');
  writeFileSync(path.join(d, 'token'), 't');
  assert.equal(detectKubeMode({ kube: 'auto', ...sa }), 'in-cluster');
  assert.equal(detectKubeMode({ kube: 'auto', ...sa, nodeName: undefined }), undefined, 'a CI job in a pod has no NODE_NAME');
  assert.equal(detectKubeMode({ kube: 'auto', kubeconfigEnv: '/root/.kube/config' }), undefined);
  assert.equal(detectKubeMode({ kube: 'auto', kubeconfig: '/etc/guestlink/kubeconfig' }), 'kubeconfig');
  assert.equal(detectKubeMode({ kube: 'off', ...sa }), undefined);
  assert.equal(detectKubeMode({ kube: 'kubeconfig' }), 'kubeconfig');
  assert.equal(serviceAddress('fd00::1', '443'), '[fd00::1]:443');
  assert.equal(serviceAddress('10.96.0.1', undefined), undefined);
});
