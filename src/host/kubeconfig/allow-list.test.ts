import assert from 'node:assert/strict';
import { test } from 'node:test';
import { UnsafeKubeconfigError } from '../errors.js';
import { allowListKubeconfig, insecureClusters } from './allow-list.js';

const base = (cluster: Record<string, unknown> = {}, user: Record<string, unknown> = {}, context: Record<string, unknown> = {}) => ({
  apiVersion: 'v1',
  kind: 'Config',
  clusters: [{ name: 'c', cluster: { server: 'https://127.0.0.1:6443', 'certificate-authority-data': 'QUJD', ...cluster } }],
  users: [{ name: 'u', user: { 'client-certificate-data': 'QUJD', 'client-key-data': 'QUJD', ...user } }],
  contexts: [{ name: 'x', context: { cluster: 'c', user: 'u', ...context } }],
  'current-context': 'x',
});

const refused = (doc: unknown, why: RegExp) =>
  assert.throws(
    () => allowListKubeconfig(doc, 'k.yaml'),
    (e: unknown) => e instanceof UnsafeKubeconfigError && why.test(e.message) && /nothing was written/.test(e.message),
  );

test('embedded data survives exactly; unknown fields and extensions are left out and named', () => {
  const r = allowListKubeconfig(
    {
      ...base({ extensions: [{ name: 'e', extension: {} }], 'future-field': 1 }, { token: 'abc' }, { namespace: 'kube-system' }),
      preferences: {},
    },
    'k.yaml',
  );
  assert.deepEqual(r.config, {
    clusters: [{ name: 'c', cluster: { server: 'https://127.0.0.1:6443', 'certificate-authority-data': 'QUJD' } }],
    users: [{ name: 'u', user: { 'client-certificate-data': 'QUJD', 'client-key-data': 'QUJD', token: 'abc' } }],
    contexts: [{ name: 'x', context: { cluster: 'c', user: 'u', namespace: 'kube-system' } }],
    'current-context': 'x',
  });
  assert.deepEqual(
    r.dropped.map((d) => d.split(' ')[0]),
    ['preferences', 'clusters[0]', 'clusters[0]'],
  );
  assert.match(r.dropped.join(';'), /\.cluster\.extensions/);
  assert.match(r.dropped.join(';'), /\.cluster\.future-field/);
});

test('every field that runs code, reads a host file or sends credentials elsewhere is refused, naming each', () => {
  refused(base({}, { exec: { command: '/bin/sh', args: ['-c', 'id'] } }), /users\[0\] "u"\.user\.exec: runs a program/);
  refused(base({}, { 'auth-provider': { name: 'oidc', config: {} } }), /auth-provider: runs an authentication plugin/);
  refused(base({}, { tokenFile: '/etc/shadow' }), /tokenFile: makes kubectl read a file/);
  refused(base({}, { 'client-certificate': '/root/.ssh/id_rsa' }), /client-certificate: makes kubectl read a file/);
  refused(base({}, { 'client-key': '/root/.ssh/id_rsa' }), /client-key: makes kubectl read a file/);
  refused(base({ 'certificate-authority': '/etc/ssl/x.pem' }), /certificate-authority: makes kubectl read a file/);
  refused(base({ 'proxy-url': 'http://evil:3128' }), /proxy-url: sends every request/);
  refused(base({}, { username: 'admin', password: 'x' }), /username: basic authentication.*password: basic/);
  refused(base({}, { as: 'system:admin' }), /\.as: impersonation/);
  refused(base({}, { 'as-groups': ['system:masters'] }), /as-groups: impersonation/);
  refused(base({ server: 'http://10.0.0.1:8080' }), /must be https/);
  refused(base({ server: 'https://u:p@10.0.0.1' }), /user name or password/);
  // Several at once are all named.
  refused(base({ 'proxy-url': 'http://p' }, { exec: {} }), /proxy-url.*exec|exec.*proxy-url/);
});

test('a context may reference only entries of the same file (a host user named prod-admin stays out of reach)', () => {
  refused(base({}, {}, { user: 'prod-admin' }), /context "x": user "prod-admin" is not defined in this kubeconfig/);
  refused(base({}, {}, { cluster: 'prod' }), /cluster "prod" is not defined/);
  refused({ ...base(), 'current-context': 'prod' }, /current-context "prod" is not a context of this kubeconfig/);
});

test('wrong types, control characters and bad base64 are refused', () => {
  refused(base({ 'insecure-skip-tls-verify': 'yes' }), /must be true or false/);
  refused(base({ server: 12345 }), /server: must be a string/);
  refused({ ...base(), clusters: [{ name: 1e30, cluster: { server: 'https://a' } }] }, /name: the name is not a string/);
  refused(base({}, { token: 'a\x1b]0;pwned\x07' }), /control characters/);
  refused({ ...base(), contexts: [{ name: 'x\u009b2J', context: { cluster: 'c', user: 'u' } }] }, /control characters/);
  refused(base({}, { 'client-key-data': 'not base64!' }), /not base64/);
  refused({ ...base(), kind: 'Secret' }, /kind: "Secret" is not Config/);
  assert.throws(() => allowListKubeconfig({ hello: 'world' }, 'k.yaml'), /not a kubeconfig \(no clusters\)/);
});

test('insecure-skip-tls-verify is kept and reported', () => {
  const r = allowListKubeconfig(base({ 'insecure-skip-tls-verify': true }), 'k.yaml');
  assert.deepEqual(insecureClusters(r.config), ['c']);
});
