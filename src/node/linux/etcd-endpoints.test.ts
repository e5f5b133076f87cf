import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { isIP } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { after, describe, test } from 'node:test';
import { detectEtcd, isLoopback, kubeadmClientUrls, parseEndpoint } from './etcd-endpoints.js';

describe('parseEndpoint: https anywhere, plain http only to loopback', () => {
  test('accepted', () => {
    assert.deepEqual(parseEndpoint('https://10.0.0.5:2379'), { url: 'https://10.0.0.5:2379', target: '10.0.0.5:2379', tls: true });
    assert.equal(parseEndpoint('http://127.0.0.1:12379').target, '127.0.0.1:12379');
    assert.equal(parseEndpoint('http://[::1]:2379').target, '[::1]:2379');
    assert.equal(parseEndpoint('http://localhost').target, 'localhost:2379');
    assert.equal(parseEndpoint('https://etcd.local').target, 'etcd.local:2379');
  });
  for (const [url, re] of [
    ['http://10.0.0.5:2379', /plain http is allowed only to loopback/],
    ['http://127.0.0.1.nip.io:2379', /only to loopback/],
    ['http://[::ffff:10.0.0.1]:2379', /only to loopback/],
    ['unix:///run/etcd.sock', /only https/],
    ['https://127.0.0.1:2379/v3', /must not have a path/],
    ['127.0.0.1:2379', /only https|not a URL/],
  ] as const)
    test(`refused: ${url}`, () => assert.throws(() => parseEndpoint(url), re));
  test('isLoopback', () => {
    assert.ok(isLoopback('127.9.9.9') && isLoopback('[::1]') && isLoopback('localhost'));
    assert.ok(!isLoopback('128.0.0.1') && !isLoopback('::') && !isLoopback('localhost.example'));
  });
  // isLoopback has its own IPv4 pattern (not node:net's isIP, to keep node:net out of the start-up): it
  // must call exactly node:net's IPv4 addresses loopback-or-not, for the near misses an attacker would try.
  test('isLoopback agrees with node:net on what is an IPv4 address', () => {
    const hosts = ['127.0.0.1', '127.255.255.255', '127.0.0.01', '0127.0.0.1', '127.0.0.256', '127.0.0.1.', '127.0.0', '127.0.0.1.1'];
    hosts.push('127.0.0.1\n', ' 127.0.0.1', '127.0.0.-1', '127.0.0.1a', '127.00.0.1', '127.0.0.0x1', '1127.0.0.1', '127.0.0.１');
    for (const h of hosts) assert.equal(isLoopback(h), isIP(h) === 4 && h.startsWith('127.'), h);
  });
});

describe('detectEtcd: configured, kubeadm, k3s, RKE2, or none', () => {
  const root = mkdtempSync(path.join(os.tmpdir(), 'guestlink-etcd-detect-'));
  after(() => rmSync(root, { recursive: true, force: true }));
  const at = (...p: string[]) => path.join(root, ...p);

  test('nothing on disk and nothing configured: a worker', () => {
    assert.equal(detectEtcd({ etcdEndpoints: [] }, at('empty')), undefined);
  });

  test("kubeadm: the manifest's client URLs (loopback first) and the healthcheck client", () => {
    const r = at('kubeadm');
    mkdirSync(path.join(r, 'etc/kubernetes/manifests'), { recursive: true });
    writeFileSync(
      path.join(r, 'etc/kubernetes/manifests/etcd.yaml'),
      '    - --advertise-client-urls=https://192.168.1.10:2379\n    - --listen-client-urls=https://192.168.1.10:2379,https://127.0.0.1:2379\n',
    );
    const a = detectEtcd({ etcdEndpoints: [] }, r);
    assert.equal(a?.via, 'kubeadm');
    assert.deepEqual(
      a?.endpoints.map((e) => e.url),
      ['https://127.0.0.1:2379', 'https://192.168.1.10:2379'],
    );
    assert.equal(a?.cert, path.join(r, 'etc/kubernetes/pki/etcd/healthcheck-client.crt'));
    assert.equal(a?.key, path.join(r, 'etc/kubernetes/pki/etcd/healthcheck-client.key'));
    assert.equal(a?.ca, path.join(r, 'etc/kubernetes/pki/etcd/ca.crt'));
    // Flags win over what is found.
    assert.equal(detectEtcd({ etcdEndpoints: [], etcdCert: '/x.crt' }, r)?.cert, '/x.crt');
  });

  test('kubeadmClientUrls without the flag: none (the caller falls back to 127.0.0.1:2379)', () => {
    assert.deepEqual(kubeadmClientUrls('spec: {}'), []);
  });

  for (const distro of ['k3s', 'rke2']) {
    test(`${distro}: embedded etcd on 127.0.0.1:2379 with server/tls/etcd/ (only when server/db/etcd exists)`, () => {
      const r = at(distro);
      mkdirSync(path.join(r, `var/lib/rancher/${distro}/server/tls/etcd`), { recursive: true });
      assert.equal(detectEtcd({ etcdEndpoints: [] }, r), undefined, 'SQLite (no db/etcd): no etcd');
      mkdirSync(path.join(r, `var/lib/rancher/${distro}/server/db/etcd`), { recursive: true });
      const a = detectEtcd({ etcdEndpoints: [] }, r);
      assert.equal(a?.via, distro);
      assert.equal(a?.endpoints[0]?.url, 'https://127.0.0.1:2379');
      assert.equal(a?.cert, path.join(r, `var/lib/rancher/${distro}/server/tls/etcd/client.crt`));
      assert.equal(a?.ca, path.join(r, `var/lib/rancher/${distro}/server/tls/etcd/server-ca.crt`));
    });
  }

  test('--etcd-endpoints wins over anything found, and is checked', () => {
    const a = detectEtcd({ etcdEndpoints: ['http://127.0.0.1:2379'], etcdCacert: '/ca' }, at('kubeadm'));
    assert.equal(a?.via, 'configured');
    assert.equal(a?.ca, '/ca');
    assert.throws(() => detectEtcd({ etcdEndpoints: ['http://10.1.1.1:2379'] }, at('empty')), /only to loopback/);
  });
});
