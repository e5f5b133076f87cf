// mountinfo parsing and qemu-ga's local-filesystem filter.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { decodeMountName, localMounts, parseMountinfo } from './mountinfo.js';

const SAMPLE = `22 27 0:21 / /proc rw,relatime - proc proc rw
27 1 254:0 / / rw,relatime - ext4 /dev/vda rw,discard
25 24 0:23 / /dev/shm rw,relatime - tmpfs tmpfs rw,size=24684084k
41 31 0:38 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw
50 27 254:1 / /boot rw,relatime shared:5 master:1 - vfat /dev/vda1 rw,fmask=0022
51 27 0:45 / /data rw,relatime shared:7 - btrfs /dev/vdb rw,space_cache
52 27 0:46 / /gone rw,relatime - btrfs /dev/missing rw
53 27 253:0 / /mnt/with\\040space\\011tab rw - xfs /dev/mapper/vg-lv\\134x rw
garbage line
54 27 8:1 / /no-dash rw
`;

test('parseMountinfo: fields, optional fields, escapes, malformed lines', () => {
  const e = parseMountinfo(SAMPLE);
  assert.equal(e.length, 8);
  assert.deepEqual(e[1], { major: 254, minor: 0, mountpoint: '/', type: 'ext4', source: '/dev/vda' });
  assert.deepEqual(e[4], { major: 254, minor: 1, mountpoint: '/boot', type: 'vfat', source: '/dev/vda1' });
  assert.equal(e[7]?.mountpoint, '/mnt/with space\ttab');
  assert.equal(e[7]?.source, '/dev/mapper/vg-lv\\x');
});

test('decodeMountName: octal escapes and backslashes like decode_mntname', () => {
  assert.equal(decodeMountName('a\\040b'), 'a b');
  assert.equal(decodeMountName('a\\\\b'), 'a\\b');
  assert.equal(decodeMountName('a\\9b'), 'a\\9b');
  assert.equal(decodeMountName('\\012'), '\n');
});

test('localMounts: major != 0, plus btrfs resolved through its block device; order kept', async () => {
  const looked: string[] = [];
  const mounts = await localMounts(parseMountinfo(SAMPLE), async (dev) => {
    looked.push(dev);
    return dev === '/dev/vdb' ? { major: 254, minor: 16 } : undefined;
  });
  assert.deepEqual(
    mounts.map((m) => [m.mountpoint, m.major, m.minor]),
    [
      ['/', 254, 0],
      ['/boot', 254, 1],
      ['/data', 254, 16],
      ['/mnt/with space\ttab', 253, 0],
    ],
  );
  assert.deepEqual(looked, ['/dev/vdb', '/dev/missing']);
});
