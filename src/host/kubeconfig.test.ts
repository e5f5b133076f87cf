import assert from 'node:assert/strict';
import { test } from 'node:test';
import YAML from 'yaml';
import { mergeKubeconfig, renameEntries, rewriteServer } from './kubeconfig.js';

const kc = (server: string, name = 'default') =>
  YAML.stringify({
    apiVersion: 'v1',
    kind: 'Config',
    clusters: [{ name, cluster: { server } }],
    users: [{ name, user: { token: 't' } }],
    contexts: [{ name, context: { cluster: name, user: name } }],
    'current-context': name,
  });

test('loopback servers (KubeSolo, k3s) move to the VM address, with the port kept', () => {
  for (const s of ['https://127.0.0.1:6443', 'https://localhost:6443', 'https://[::1]:6443', 'https://0.0.0.0:6443']) {
    const r = rewriteServer(kc(s), { vmIp: '192.0.2.7' });
    assert.equal(YAML.parse(r.text).clusters[0].cluster.server, 'https://192.0.2.7:6443', s);
  }
  const v6 = rewriteServer(kc('https://127.0.0.1:6443'), { vmIp: 'fd00::5' });
  assert.equal(YAML.parse(v6.text).clusters[0].cluster.server, 'https://[fd00::5]:6443');
});

test("a reachable server (kubeadm's control-plane endpoint) is kept unless --api-server says otherwise", () => {
  const r = rewriteServer(kc('https://cp.example:6443'), { vmIp: '192.0.2.7' });
  assert.deepEqual(r.changed, []);
  const forced = rewriteServer(kc('https://cp.example:6443'), { apiServer: '192.0.2.9', vmIp: '192.0.2.7' });
  assert.equal(YAML.parse(forced.text).clusters[0].cluster.server, 'https://192.0.2.9:6443');
});

test('something that is not a kubeconfig is refused', () => {
  assert.throws(() => rewriteServer('hello: world\n', {}), /not a kubeconfig/);
});

test('rename keeps references consistent; merge replaces same-named entries and keeps others', () => {
  const renamed = YAML.parse(renameEntries(kc('https://a:1'), 'vm1'));
  assert.deepEqual(renamed.contexts[0], { name: 'vm1', context: { cluster: 'vm1', user: 'vm1' } });
  assert.equal(renamed['current-context'], 'vm1');
  const merged = YAML.parse(mergeKubeconfig(kc('https://old:1', 'other'), renameEntries(kc('https://a:1'), 'vm1')));
  assert.deepEqual(
    merged.clusters.map((c: { name: string }) => c.name),
    ['other', 'vm1'],
  );
  assert.equal(merged['current-context'], 'other', 'the current context stays unless asked');
  const again = YAML.parse(mergeKubeconfig(YAML.stringify(merged), renameEntries(kc('https://b:2'), 'vm1'), { setCurrent: true }));
  assert.equal(again.clusters.length, 2);
  assert.equal(again.clusters[1].cluster.server, 'https://b:2');
  assert.equal(again['current-context'], 'vm1');
  assert.equal(YAML.parse(mergeKubeconfig('', kc('https://a:1')))['current-context'], 'default', 'an empty target takes the new context');
});
