// The OS names vSphere shows, from os-release: full name from PRETTY_NAME; short name as the VMX's
// guest identifiers spell them, generic Linux by kernel major for the rest (Talos, Flatcar, Alpine).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { fullOsName, shortOsName } from '../../src/commands/vmware/os-names.js';

test('short OS names', () => {
  assert.equal(shortOsName({ id: 'debian', versionId: '12', kernelRelease: '6.1.0-13-amd64', machine: 'x86_64' }), 'debian12-64');
  assert.equal(shortOsName({ id: 'ubuntu', versionId: '24.04', machine: 'x86_64' }), 'ubuntu-64');
  assert.equal(shortOsName({ id: 'rhel', versionId: '9.4', machine: 'x86_64' }), 'rhel9-64');
  assert.equal(shortOsName({ id: 'talos', versionId: 'v1.9.0', kernelRelease: '6.12.6-talos', machine: 'x86_64' }), 'other6xlinux-64');
  assert.equal(shortOsName({ id: 'alpine', kernelRelease: '5.15.1', machine: 'aarch64' }), 'other5xlinux-64');
  assert.equal(shortOsName({ id: 'alpine', kernelRelease: '5.15.1', machine: 'i686' }), 'other5xlinux');
  assert.equal(shortOsName({}), 'otherlinux-64');
});

test('full OS names', () => {
  assert.equal(fullOsName({ prettyName: 'Debian GNU/Linux 12 (bookworm)' }), 'Debian GNU/Linux 12 (bookworm)');
  assert.equal(fullOsName({ name: 'Talos', version: 'v1.9.0' }), 'Talos v1.9.0');
  assert.equal(fullOsName({ kernelRelease: '6.1.0' }), 'Linux 6.1.0');
});
