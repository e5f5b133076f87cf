// Where a filesystem or disk lives, found by walking sysfs from its block device the way qemu-ga 7.2
// does (build_guest_fsinfo_for_device and friends): device-mapper/md devices are followed through
// their `slaves`, real devices get a PCI controller address and a bus type from the driver of the
// PCI function above them (virtio-blk/virtio-scsi, ide, sata, scsi, nvme, usb), plus the device node
// and udev's ID_SERIAL (qemu-ga asks libudev, which reads uevent and /run/udev/data).
import path from 'node:path';
import type { DiskAddress, DiskInfo } from '../interfaces.js';
import { fsPromises } from './fs-promises.js';

/** Paths under `root` (tests point it at a fixture tree); '/' on a real system. */
export class Sysfs {
  readonly root: string;
  constructor(root = '/') {
    this.root = path.resolve(root);
  }

  abs(p: string): string {
    return this.root === '/' ? p : path.join(this.root, p);
  }

  /** An absolute path back to its in-system form (without the fixture root). */
  rel(p: string): string {
    if (this.root === '/') return p;
    return p.startsWith(`${this.root}/`) ? p.slice(this.root.length) : p;
  }

  /** realpath(3), in-system form; undefined when it does not resolve. */
  async resolve(p: string): Promise<string | undefined> {
    try {
      return this.rel(await (await fsPromises()).realpath(this.abs(p)));
    } catch {
      return undefined;
    }
  }

  async read(p: string): Promise<string | undefined> {
    try {
      return await (await fsPromises()).readFile(this.abs(p), 'utf8');
    } catch {
      return undefined;
    }
  }

  async link(p: string): Promise<string | undefined> {
    try {
      return await (await fsPromises()).readlink(this.abs(p));
    } catch {
      return undefined;
    }
  }

  /** Directory entries in the kernel's readdir order (fs.readdir sorts; qemu-ga does not). */
  async entries(p: string): Promise<{ name: string; symlink: boolean; dir: boolean }[] | undefined> {
    try {
      const out: { name: string; symlink: boolean; dir: boolean }[] = [];
      for await (const e of await (await fsPromises()).opendir(this.abs(p), { bufferSize: 128 })) {
        out.push({ name: e.name, symlink: e.isSymbolicLink(), dir: e.isDirectory() });
      }
      return out;
    } catch {
      return undefined;
    }
  }
}

/** KEY=value lines of a sysfs uevent file. */
function ueventField(text: string | undefined, key: string): string | undefined {
  for (const line of (text ?? '').split('\n')) if (line.startsWith(`${key}=`)) return line.slice(key.length + 1);
  return undefined;
}

/** What libudev's udev_device_get_devnode gives: /dev/<DEVNAME> from the device's uevent. */
export async function deviceNode(fs: Sysfs, syspath: string): Promise<string | undefined> {
  const name = ueventField(await fs.read(`${syspath}/uevent`), 'DEVNAME');
  return name ? `/dev/${name}` : undefined;
}

/** udev's ID_SERIAL for a block device, from its database entry (/run/udev/data/b<maj>:<min>). */
export async function udevSerial(fs: Sysfs, syspath: string): Promise<string | undefined> {
  const uevent = await fs.read(`${syspath}/uevent`);
  const major = ueventField(uevent, 'MAJOR');
  const minor = ueventField(uevent, 'MINOR');
  if (!major || !minor) return undefined;
  const db = await fs.read(`/run/udev/data/b${major}:${minor}`);
  for (const line of (db ?? '').split('\n')) {
    if (line.startsWith('E:ID_SERIAL=')) {
      const v = line.slice('E:ID_SERIAL='.length);
      return v.length > 0 ? v : undefined;
    }
  }
  return undefined;
}

const PCI_FN = /^\/([0-9a-fA-F]+):([0-9a-fA-F]+):([0-9a-fA-F]+)\.([0-9a-fA-F]+)/;
/** PCI drivers qemu-ga recognises as disk controllers. */
const CONTROLLER_DRIVERS = new Set(['ata_piix', 'sym53c8xx', 'virtio-pci', 'ahci', 'nvme', 'xhci_hcd', 'ehci-pci']);

function pciNumbers(m: RegExpExecArray): [number, number, number, number] {
  const n = (i: number) => Number.parseInt(m[i] ?? '0', 16);
  return [n(1), n(2), n(3), n(4)];
}

/** Numbers of the host<N> (or ata<N>) siblings of a SCSI host, sorted: qemu-ga's build_hosts. */
async function hostNumbers(fs: Sysfs, parent: string, ata: boolean): Promise<number[] | undefined> {
  const ents = await fs.entries(parent);
  if (!ents) return undefined;
  const re = ata ? /^ata(-?\d+)/ : /^host(-?\d+)/;
  const out: number[] = [];
  for (const e of ents) {
    const m = re.exec(e.name);
    if (m && out.length < 8) out.push(Number(m[1]));
  }
  return out.sort((a, b) => a - b);
}

/**
 * Fills pciController/busType/bus/unit from a real device's sysfs path below /devices/pci...
 * Returns false when the path or the driver is not one qemu-ga understands.
 */
export async function fillPciAddress(fs: Sysfs, syspath: string, disk: DiskAddress): Promise<boolean> {
  const at = syspath.indexOf('/devices/pci');
  if (at < 0) return false;
  // "/devices/pci<domain>:<bus>" then "/<domain>:<bus>:<slot>.<fn>" (one or more, through bridges)
  const root = /^[0-9a-fA-F]+:[0-9a-fA-F]+/.exec(syspath.slice(at + 12));
  if (!root) return false;
  let pos = at + 12 + root[0].length;
  let m = PCI_FN.exec(syspath.slice(pos));
  if (!m) return false;
  let pci = pciNumbers(m);
  pos += m[0].length;
  let driver: string | undefined;
  for (;;) {
    const link = await fs.link(`${syspath.slice(0, pos)}/driver`);
    driver = link ? path.basename(link) : undefined;
    if (driver && CONTROLLER_DRIVERS.has(driver)) break;
    m = PCI_FN.exec(syspath.slice(pos));
    if (!m) return false;
    pci = pciNumbers(m);
    pos += m[0].length;
  }

  // ".../target<h>:<c>:<t>/<h>:<c>:<t>:<l>/..." -> channel, target, lun
  let tgt: [number, number, number] | undefined;
  const t = /\/target\d+:\d+:\d+\/\d+:(\d+):(\d+):(\d+)/.exec(syspath);
  if (t) tgt = [Number(t[1]), Number(t[2]), Number(t[3])];

  let ata = true;
  let hostAt = syspath.indexOf('/ata');
  let numAt = hostAt + 4;
  if (hostAt < 0) {
    ata = false;
    hostAt = syspath.indexOf('/host');
    numAt = hostAt + 5;
  }
  let host: number | undefined;
  let hosts: number[] = [];
  if (hostAt >= 0) {
    const h = /^\d+/.exec(syspath.slice(numAt));
    if (h) {
      host = Number(h[0]);
      const found = await hostNumbers(fs, syspath.slice(0, hostAt), ata);
      if (!found) return false;
      hosts = found;
    }
  }

  disk.pciController = { domain: pci[0], bus: pci[1], slot: pci[2], function: pci[3] };
  switch (driver) {
    case 'ata_piix': {
      // one host per IDE bus: target*:0:<unit>:0
      if (host === undefined || !tgt) return false;
      const i = hosts.indexOf(host);
      if (i < 0) return false;
      disk.busType = 'ide';
      disk.bus = i;
      disk.unit = tgt[1];
      return true;
    }
    case 'sym53c8xx':
      if (!tgt) return false;
      disk.busType = 'scsi';
      disk.unit = tgt[1];
      return true;
    case 'virtio-pci':
      if (tgt) {
        // virtio-scsi: target*:0:0:<unit>
        disk.busType = 'scsi';
        disk.unit = tgt[2];
      } else {
        disk.busType = 'virtio';
      }
      return true;
    case 'ahci': {
      // one host per unit
      if (host === undefined || !tgt) return false;
      const i = hosts.indexOf(host);
      if (i < 0) return false;
      disk.busType = 'sata';
      disk.unit = i;
      return true;
    }
    case 'nvme':
      disk.busType = 'nvme';
      return true;
    default:
      // xhci_hcd, ehci-pci
      disk.busType = 'usb';
      return true;
  }
}

/** The address of a real (non-virtual) block device, or undefined when nothing is known about it. */
export async function realDeviceAddress(fs: Sysfs, syspath: string): Promise<DiskAddress | undefined> {
  const disk: DiskAddress = {
    pciController: { domain: 0, bus: 0, slot: 0, function: 0 },
    busType: 'unknown',
    bus: 0,
    target: 0,
    unit: 0,
  };
  const dev = await deviceNode(fs, syspath);
  if (dev) disk.dev = dev;
  const serial = await udevSerial(fs, syspath);
  if (serial) disk.serial = serial;
  const hw = syspath.includes('/devices/pci') ? await fillPciAddress(fs, syspath, disk) : false;
  return hw || dev || serial ? disk : undefined;
}

function isVirtual(syspath: string): boolean {
  return syspath.includes('/devices/virtual/block/');
}

/** Name and backing disks of the block device `major:minor`, as guest-get-fsinfo reports them. */
export async function filesystemDevice(fs: Sysfs, major: number, minor: number): Promise<{ name?: string; disk: DiskAddress[] }> {
  const acc: { name?: string; disk: DiskAddress[] } = { disk: [] };
  await walkDevice(fs, `/sys/dev/block/${major}:${minor}`, acc, 0);
  return acc;
}

async function walkDevice(fs: Sysfs, devpath: string, acc: { name?: string; disk: DiskAddress[] }, depth: number): Promise<void> {
  const syspath = await fs.resolve(devpath);
  if (!syspath || depth > 16) return;
  acc.name ??= path.basename(syspath);
  if (isVirtual(syspath)) {
    for (const e of (await fs.entries(`${syspath}/slaves`)) ?? []) {
      if (e.symlink) await walkDevice(fs, `${syspath}/slaves/${e.name}`, acc, depth + 1);
    }
    return;
  }
  const disk = await realDeviceAddress(fs, syspath);
  if (disk) acc.disk.unshift(disk); // qemu-ga prepends
}

/** guest-get-disks: every non-empty disk of /sys/block with its partitions, as qemu-ga lists them. */
export async function listDisks(fs: Sysfs): Promise<DiskInfo[]> {
  const out: DiskInfo[] = [];
  for (const e of (await fs.entries('/sys/block')) ?? []) {
    if (!e.symlink) continue;
    const size = await fs.read(`/sys/block/${e.name}/size`);
    if (size === undefined || size === '0\n') continue;
    const diskDir = `/sys/block/${e.name}`;
    const syspath = await fs.resolve(diskDir);
    const name = syspath && (await deviceNode(fs, syspath));
    if (!syspath || !name) continue;
    const disk: DiskInfo = { name, partition: false };
    const alias = (await fs.read(`${diskDir}/dm/name`))?.replace(/\n$/, '');
    if (alias !== undefined) disk.alias = alias;
    if (!isVirtual(syspath)) {
      const address = await realDeviceAddress(fs, syspath);
      if (address) disk.address = address;
    }
    const slaves = await fs.entries(`${diskDir}/slaves`);
    if (slaves) {
      disk.dependencies = [];
      for (const s of slaves) {
        const dep = await fs.resolve(`${diskDir}/slaves/${s.name}`);
        const node = dep && (await deviceNode(fs, dep));
        if (node) disk.dependencies.unshift(node);
      }
    }
    out.unshift(disk);
    for (const p of (await fs.entries(diskDir)) ?? []) {
      if (!p.dir || !p.name.startsWith(e.name)) continue;
      const node = await deviceNode(fs, `${syspath}/${p.name}`);
      if (!node) continue;
      out.unshift({ name: node, partition: true, dependencies: [name] });
    }
  }
  return out;
}
