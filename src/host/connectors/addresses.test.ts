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
  for (const bad of ['unix:', 'libvirt:', 'pve://pve1/x', 'pve-pool:', 'ssh://x', '/run/qga.sock'])
    assert.equal(parseAddress(bad), undefined, bad);
});

test('fleet forms are marked, schemes are listed once', () => {
  assert.deepEqual(
    ADDRESS_FORMS.filter((f) => f.fleet).map((f) => f.form),
    ['libvirt:GLOB', 'pve://NODE/*', 'pve-pool:POOL'],
  );
  assert.deepEqual(ADDRESS_SCHEMES, ['unix:', 'libvirt:', 'pve://', 'pve-pool:']);
  assert.equal(describeForms(false), 'unix:/path/to/qga.sock, libvirt:DOMAIN, pve://NODE/VMID');
});
