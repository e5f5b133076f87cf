import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ADDRESS_FORMS, ADDRESS_SCHEMES, describeForms, parseAddress } from './addresses.js';

test('each form parses its own example and nothing parses garbage', () => {
  assert.deepEqual(parseAddress('unix:/run/qga.sock')?.parsed, { kind: 'unix', path: '/run/qga.sock' });
  assert.deepEqual(parseAddress('libvirt:web1')?.parsed, { kind: 'libvirt', domain: 'web1' });
  assert.deepEqual(parseAddress('libvirt://web1')?.parsed, { kind: 'libvirt', domain: 'web1' });
  assert.deepEqual(parseAddress('pve://pve1/100')?.parsed, { kind: 'pve', node: 'pve1', vmid: 100 });
  assert.deepEqual(parseAddress('libvirt:k8s-*')?.parsed, { kind: 'libvirt-glob', glob: 'k8s-*' });
  assert.deepEqual(parseAddress('pve://pve1/*')?.parsed, { kind: 'pve-node', node: 'pve1' });
  assert.deepEqual(parseAddress('pve-pool:k8s')?.parsed, { kind: 'pve-pool', pool: 'k8s' });
  assert.deepEqual(parseAddress('tls://10.0.0.5:10280')?.parsed, { kind: 'tls', host: '10.0.0.5', port: 10280 });
  assert.deepEqual(parseAddress('tls://[fd00::5]:443')?.parsed, { kind: 'tls', host: 'fd00::5', port: 443 });
  assert.deepEqual(parseAddress('node://worker-1')?.parsed, { kind: 'node', name: 'worker-1' });
  assert.deepEqual(parseAddress('node://worker-1:9000')?.parsed, { kind: 'node', name: 'worker-1', port: 9000 });
  assert.deepEqual(parseAddress('node://*')?.parsed, { kind: 'node-fleet' });
  assert.deepEqual(parseAddress('node-selector:zone=a:9000')?.parsed, { kind: 'node-fleet', selector: 'zone=a', port: 9000 });
  for (const bad of [
    'unix:',
    'libvirt:',
    'pve://pve1/x',
    'pve-pool:',
    'ssh://x',
    '/run/qga.sock',
    'tls://host',
    'tls://host:0',
    'tls://host:70000',
    'node://Worker',
    'node://w:0',
    'node-selector:',
  ])
    assert.equal(parseAddress(bad), undefined, bad);
});

test('fleet forms are marked, schemes are listed once', () => {
  assert.deepEqual(
    ADDRESS_FORMS.filter((f) => f.fleet).map((f) => f.form),
    ['libvirt:GLOB', 'pve://NODE/*', 'pve-pool:POOL', 'node://*[:PORT]', 'node-selector:SELECTOR[:PORT]'],
  );
  assert.deepEqual(ADDRESS_SCHEMES, ['unix:', 'libvirt:', 'pve://', 'tls://', 'node://', 'pve-pool:', 'node-selector:']);
  assert.equal(describeForms(false), 'unix:/path/to/qga.sock, libvirt:DOMAIN, pve://NODE/VMID, tls://HOST:PORT, node://NODE[:PORT]');
});
