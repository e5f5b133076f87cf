import assert from 'node:assert/strict';
import { test } from 'node:test';
import YAML from 'yaml';
import { allowListKubeconfig, type SafeKubeconfig } from './allow-list.js';
import { mergeInto, renameEntries, renderKubeconfig, rewriteServers } from './merge.js';

const kc = (server: string, name = 'default'): SafeKubeconfig =>
  allowListKubeconfig(
    {
      apiVersion: 'v1',
      kind: 'Config',
      clusters: [{ name, cluster: { server } }],
      users: [{ name, user: { token: 't' } }],
      contexts: [{ name, context: { cluster: name, user: name } }],
      'current-context': name,
    },
    'test',
  ).config;

test('loopback servers (KubeSolo, k3s) move to the VM address, with the port kept', () => {
  for (const s of ['https://127.0.0.1:6443', 'https://localhost:6443', 'https://[::1]:6443', 'https://0.0.0.0:6443']) {
    const c = kc(s);
    rewriteServers(c, { vmIp: '192.0.2.7' });
    assert.equal(c.clusters[0]?.cluster.server, 'https://192.0.2.7:6443', s);
  }
  const v6 = kc('https://127.0.0.1:6443');
  rewriteServers(v6, { vmIp: 'fd00::5' });
  assert.equal(v6.clusters[0]?.cluster.server, 'https://[fd00::5]:6443');
});

test("a reachable server (kubeadm's control-plane endpoint) is kept unless --api-server says otherwise", () => {
  assert.deepEqual(rewriteServers(kc('https://cp.example:6443'), { vmIp: '192.0.2.7' }), []);
  const forced = kc('https://cp.example:6443');
  rewriteServers(forced, { apiServer: '192.0.2.9', vmIp: '192.0.2.7' });
  assert.equal(forced.clusters[0]?.cluster.server, 'https://192.0.2.9:6443');
});

test('rename keeps references consistent', () => {
  const c = kc('https://a:1');
  renameEntries(c, 'vm1');
  assert.deepEqual(c.contexts[0], { name: 'vm1', context: { cluster: 'vm1', user: 'vm1' } });
  assert.equal(c['current-context'], 'vm1');
  const doc = YAML.parse(renderKubeconfig(c));
  assert.equal(doc.kind, 'Config');
  assert.equal(doc.apiVersion, 'v1');
});

test("merge adds the guest's entries, keeps the host's, and leaves current-context alone unless asked", () => {
  const host = renderKubeconfig(kc('https://old:1', 'other'));
  const guest = kc('https://a:1');
  renameEntries(guest, 'vm1');
  const m = mergeInto(host, guest);
  const merged = YAML.parse(m.text);
  assert.deepEqual(
    merged.clusters.map((c: { name: string }) => c.name),
    ['other', 'vm1'],
  );
  assert.equal(merged['current-context'], 'other');
  assert.equal(m.prefix, '');
  assert.equal(m.current, undefined);
  const set = kc('https://a:1');
  renameEntries(set, 'vm2');
  assert.equal(YAML.parse(mergeInto(m.text, set, { setCurrent: true }).text)['current-context'], 'vm2');
});

test('a name the host file already uses is never replaced: the guest entries get a prefix', () => {
  const host = renderKubeconfig(kc('https://host:1', 'vm1'));
  const first = kc('https://a:1');
  renameEntries(first, 'vm1');
  const m = mergeInto(host, first);
  assert.equal(m.prefix, 'guestlink-');
  const doc = YAML.parse(m.text);
  assert.deepEqual(
    doc.contexts.map((x: { name: string; context: { user: string } }) => [x.name, x.context.user]),
    [
      ['vm1', 'vm1'],
      ['guestlink-vm1', 'guestlink-vm1'],
    ],
  );
  assert.equal(doc.clusters[0].cluster.server, 'https://host:1', "the host's cluster is untouched");
  const again = kc('https://b:1');
  renameEntries(again, 'vm1');
  assert.equal(mergeInto(m.text, again).prefix, 'guestlink-2-');
});

test('an empty or missing host file gets no current-context implicitly; comments in a host file survive', () => {
  const g = kc('https://a:1');
  renameEntries(g, 'vm1');
  assert.equal(YAML.parse(mergeInto('', g).text)['current-context'], undefined);
  const withComment = `# my clusters\n${renderKubeconfig(kc('https://h:1', 'h'))}`;
  const g2 = kc('https://a:1');
  renameEntries(g2, 'vm1');
  assert.match(mergeInto(withComment, g2).text, /^# my clusters\n/);
});

test('a host file that is not a kubeconfig is left alone: an error, not a rewrite', () => {
  const g = kc('https://a:1');
  assert.throws(() => mergeInto('clusters: {a: 1}\n', g), /"clusters" in the kubeconfig to merge into is not a list/);
  assert.throws(() => mergeInto('- just\n- a list\n', g), /not a YAML map/);
  assert.throws(() => mergeInto('a: [\n', g), /not valid YAML/);
  const nulls = YAML.parse(mergeInto('apiVersion: v1\nclusters: null\nusers: null\ncontexts: null\n', g).text);
  assert.equal(nulls.clusters.length, 1);
});
