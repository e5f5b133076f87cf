import assert from 'node:assert/strict';
import { test } from 'node:test';
import { mountOf, privilegeWarnings } from './privilege.js';

const MOUNTINFO = `22 1 8:1 / / rw,relatime shared:1 - ext4 /dev/sda1 rw
30 22 0:25 / /var/run/secrets/talos.dev ro,relatime - tmpfs tmpfs rw,size=8192k
31 22 0:26 / /var/run/secrets/kubernetes.io/serviceaccount ro,relatime - tmpfs tmpfs rw
40 22 8:1 /var/lib/talosconfig /etc/talos ro,relatime - ext4 /dev/sda1 rw
`;

test('os:operator from a private Secret volume with mode 0400: nothing to warn about', () => {
  const w = privilegeWarnings({
    roles: ['os:operator'],
    source: 'cert',
    file: {
      path: '/var/run/secrets/talos.dev/config',
      mode: 0o100400,
      mount: mountOf('/var/run/secrets/talos.dev/..data/config', MOUNTINFO) as never,
    },
  });
  assert.deepEqual(w, []);
});

test('os:admin is warned about, with how to get os:operator credentials', () => {
  const [w] = privilegeWarnings({ roles: ['os:admin'], source: 'talos-role os:admin' });
  assert.match(w ?? '', /carry os:admin; guestlink needs only os:operator/);
});

test('credentials without operator or admin: power actions will be refused', () => {
  assert.match(privilegeWarnings({ roles: ['os:reader'], source: 'cert' })[0] ?? '', /carry os:reader: Talos will refuse guest-shutdown/);
  assert.match(privilegeWarnings({ roles: [], source: 'cert' })[0] ?? '', /carry no role/);
});

test('a talosconfig readable by group/others and one on a hostPath (ext4) mount are warned about', () => {
  const w = privilegeWarnings({
    roles: ['os:operator'],
    source: 'cert',
    file: { path: '/etc/talos/config', mode: 0o100644, mount: mountOf('/etc/talos/config', MOUNTINFO) as never },
  });
  assert.equal(w.length, 2);
  assert.match(w[0] ?? '', /mode 0644\): set the Secret volume's defaultMode to 0400/);
  assert.match(w[1] ?? '', /on a ext4 mount \(\/etc\/talos\) that the node and other pods can read/);
});

test('mountOf picks the longest mount point containing the path, and never a sibling prefix', () => {
  assert.deepEqual(mountOf('/var/run/secrets/talos.dev/config', MOUNTINFO), { mountpoint: '/var/run/secrets/talos.dev', type: 'tmpfs' });
  assert.deepEqual(mountOf('/var/run/secrets/talos.devx/config', MOUNTINFO), { mountpoint: '/', type: 'ext4' });
});
