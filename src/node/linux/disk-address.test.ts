// sysfs walking on a fixture tree shaped like a QEMU guest's /sys: virtio-blk, virtio-scsi, AHCI,
// PIIX IDE, NVMe, a disk behind a PCI bridge, device-mapper on a partition, udev serials.
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { filesystemDevice, fillPciAddress, listDisks, Sysfs } from './disk-address.js';
import { LinuxStorage } from './storage.js';

let root: string;
const P = '/sys/devices/pci0000:00';

function file(p: string, text: string) {
  mkdirSync(path.dirname(path.join(root, p)), { recursive: true });
  writeFileSync(path.join(root, p), text);
}
function link(p: string, target: string) {
  mkdirSync(path.dirname(path.join(root, p)), { recursive: true });
  symlinkSync(target, path.join(root, p));
}
function driver(pciDir: string, name: string) {
  link(`${pciDir}/driver`, `../../../bus/pci/drivers/${name}`);
}
/** A block device directory with uevent and size; registers /sys/dev/block and (for disks) /sys/block. */
function blockdev(dir: string, name: string, major: number, minor: number, opts: { size?: string; disk?: boolean } = {}) {
  file(`${dir}/uevent`, `MAJOR=${major}\nMINOR=${minor}\nDEVNAME=${name}\nDEVTYPE=${opts.disk === false ? 'partition' : 'disk'}\n`);
  file(`${dir}/size`, opts.size ?? '2048\n');
  link(`/sys/dev/block/${major}:${minor}`, path.relative(path.join(root, '/sys/dev/block'), path.join(root, dir)));
  if (opts.disk !== false) {
    mkdirSync(path.join(root, dir, 'slaves'), { recursive: true });
    link(`/sys/block/${name}`, path.relative(path.join(root, '/sys/block'), path.join(root, dir)));
  }
}

before(() => {
  root = mkdtempSync(path.join(os.tmpdir(), 'guestlink-sysfs-'));
  // virtio-blk at 00:02.0 with a partition, udev serial on the disk
  driver(`${P}/0000:00:02.0`, 'virtio-pci');
  blockdev(`${P}/0000:00:02.0/virtio1/block/vda`, 'vda', 254, 0);
  blockdev(`${P}/0000:00:02.0/virtio1/block/vda/vda1`, 'vda1', 254, 1, { disk: false });
  file('/run/udev/data/b254:0', 'S:disk/by-id/virtio-SER1\nE:ID_SERIAL=SER1\nE:ID_BUS=virtio\n');
  // virtio-scsi at 00:03.0, LUN 3
  driver(`${P}/0000:00:03.0`, 'virtio-pci');
  blockdev(`${P}/0000:00:03.0/virtio2/host2/target2:0:1/2:0:1:3/block/sda`, 'sda', 8, 0);
  // AHCI at 00:1f.2: ata1..ata6, disk on ata3
  driver(`${P}/0000:00:1f.2`, 'ahci');
  for (let i = 1; i <= 6; i++) mkdirSync(path.join(root, `${P}/0000:00:1f.2/ata${i}`), { recursive: true });
  blockdev(`${P}/0000:00:1f.2/ata3/host2/target2:0:0/2:0:0:0/block/sdb`, 'sdb', 8, 16);
  // PIIX IDE at 00:01.1: ata1, ata2; CD on the second bus, target 1
  driver(`${P}/0000:00:01.1`, 'ata_piix');
  mkdirSync(path.join(root, `${P}/0000:00:01.1/ata1`), { recursive: true });
  blockdev(`${P}/0000:00:01.1/ata2/host1/target1:0:1/1:0:1:0/block/sr0`, 'sr0', 11, 0);
  // NVMe at 00:04.0
  driver(`${P}/0000:00:04.0`, 'nvme');
  blockdev(`${P}/0000:00:04.0/nvme/nvme0/nvme0n1`, 'nvme0n1', 259, 0);
  // virtio-blk behind a PCIe root port: 00:1c.0 (pcieport) -> 01:00.0 (virtio-pci)
  driver(`${P}/0000:00:1c.0`, 'pcieport');
  driver(`${P}/0000:00:1c.0/0000:01:00.0`, 'virtio-pci');
  blockdev(`${P}/0000:00:1c.0/0000:01:00.0/virtio3/block/vdb`, 'vdb', 254, 16);
  // device-mapper on vda1
  blockdev('/sys/devices/virtual/block/dm-0', 'dm-0', 253, 0);
  file('/sys/devices/virtual/block/dm-0/dm/name', 'vg-root\n');
  link('/sys/devices/virtual/block/dm-0/slaves/vda1', `../../../../pci0000:00/0000:00:02.0/virtio1/block/vda/vda1`);
  // an empty loop device: skipped by guest-get-disks
  blockdev('/sys/devices/virtual/block/loop0', 'loop0', 7, 0, { size: '0\n' });
  file(
    '/proc/self/mountinfo',
    [
      '22 27 0:21 / /proc rw - proc proc rw',
      '27 1 253:0 / / rw - ext4 /dev/mapper/vg-root rw',
      '28 27 254:1 / /boot rw - ext2 /dev/vda1 rw',
      '29 27 259:0 / /nvme rw - xfs /dev/nvme0n1 rw',
    ].join('\n'),
  );
});
after(() => rmSync(root, { recursive: true, force: true }));

const pci = (slot: number, bus = 0) => ({ domain: 0, bus, slot, function: 0 });

describe('disk addresses from sysfs', () => {
  test('virtio-blk partition: controller, bus type, dev; serial from the udev database', async () => {
    const fs = new Sysfs(root);
    assert.deepEqual(await filesystemDevice(fs, 254, 1), {
      name: 'vda1',
      disk: [{ pciController: pci(2), busType: 'virtio', bus: 0, target: 0, unit: 0, dev: '/dev/vda1' }],
    });
    const disk = await filesystemDevice(fs, 254, 0);
    assert.equal(disk.disk[0]?.serial, 'SER1');
  });

  test('device-mapper: named dm-0, disks from its slaves', async () => {
    assert.deepEqual(await filesystemDevice(new Sysfs(root), 253, 0), {
      name: 'dm-0',
      disk: [{ pciController: pci(2), busType: 'virtio', bus: 0, target: 0, unit: 0, dev: '/dev/vda1' }],
    });
  });

  test('virtio-scsi, AHCI, PIIX IDE, NVMe, bridge', async () => {
    const fs = new Sysfs(root);
    const one = async (maj: number, min: number) => (await filesystemDevice(fs, maj, min)).disk[0];
    assert.deepEqual(await one(8, 0), { pciController: pci(3), busType: 'scsi', bus: 0, target: 0, unit: 3, dev: '/dev/sda' });
    assert.deepEqual(await one(8, 16), {
      pciController: { domain: 0, bus: 0, slot: 0x1f, function: 2 },
      busType: 'sata',
      bus: 0,
      target: 0,
      unit: 2,
      dev: '/dev/sdb',
    });
    assert.deepEqual(await one(11, 0), {
      pciController: { domain: 0, bus: 0, slot: 1, function: 1 },
      busType: 'ide',
      bus: 1,
      target: 0,
      unit: 1,
      dev: '/dev/sr0',
    });
    assert.deepEqual(await one(259, 0), { pciController: pci(4), busType: 'nvme', bus: 0, target: 0, unit: 0, dev: '/dev/nvme0n1' });
    assert.deepEqual(await one(254, 16), { pciController: pci(0, 1), busType: 'virtio', bus: 0, target: 0, unit: 0, dev: '/dev/vdb' });
  });

  test('an unknown driver or a non-PCI path gives no controller address', async () => {
    const fs = new Sysfs(root);
    const d = { pciController: pci(0), busType: 'unknown', bus: 0, target: 0, unit: 0 };
    assert.equal(await fillPciAddress(fs, '/sys/devices/platform/foo/block/mmcblk0', d), false);
    assert.equal(await fillPciAddress(fs, `${P}/0000:00:1c.0/block/x`, d), false);
  });

  test('guest-get-disks: disks with partitions, dependencies and dm alias; empty disks skipped', async () => {
    const disks = await listDisks(new Sysfs(root));
    const byName = new Map(disks.map((d) => [d.name, d]));
    assert.deepEqual(
      [...byName.keys()].sort(),
      ['/dev/dm-0', '/dev/nvme0n1', '/dev/sda', '/dev/sdb', '/dev/sr0', '/dev/vda', '/dev/vda1', '/dev/vdb'].sort(),
    );
    assert.deepEqual(byName.get('/dev/dm-0'), { name: '/dev/dm-0', partition: false, alias: 'vg-root', dependencies: ['/dev/vda1'] });
    assert.deepEqual(byName.get('/dev/vda1'), { name: '/dev/vda1', partition: true, dependencies: ['/dev/vda'] });
    assert.deepEqual(byName.get('/dev/vda'), {
      name: '/dev/vda',
      partition: false,
      dependencies: [],
      address: { pciController: pci(2), busType: 'virtio', bus: 0, target: 0, unit: 0, dev: '/dev/vda', serial: 'SER1' },
    });
    // qemu-ga prepends: a partition comes before its disk
    assert.ok(disks.findIndex((d) => d.name === '/dev/vda1') < disks.findIndex((d) => d.name === '/dev/vda'));
  });
});

describe('LinuxStorage on the fixture', () => {
  test('filesystems: local mounts only, last mount first, names and disks', async () => {
    const fsinfo = await new LinuxStorage(root).filesystems();
    assert.deepEqual(
      fsinfo.map((f) => [f.name, f.mountpoint, f.type, f.disk.map((d) => d.dev)]),
      [
        ['nvme0n1', '/nvme', 'xfs', ['/dev/nvme0n1']],
        ['vda1', '/boot', 'ext2', ['/dev/vda1']],
        ['dm-0', '/', 'ext4', ['/dev/vda1']],
      ],
    );
  });

  test('freezableMounts: same filter, mount order', async () => {
    assert.deepEqual(await new LinuxStorage(root).freezableMounts(), ['/', '/boot', '/nvme']);
  });
});
