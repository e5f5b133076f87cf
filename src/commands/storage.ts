// Filesystems, disks, disk counters and fstrim.
import type { DiskAddress } from '../node/interfaces.js';
import type { GroupHandlers } from './context.js';

function address(a: DiskAddress) {
  return {
    'pci-controller': {
      domain: a.pciController.domain,
      bus: a.pciController.bus,
      slot: a.pciController.slot,
      function: a.pciController.function,
    },
    'bus-type': a.busType,
    bus: a.bus,
    target: a.target,
    unit: a.unit,
    serial: a.serial,
    dev: a.dev,
  };
}

/** camelCase stat names back to QGA's kebab-case (readSectors -> read-sectors, iosPgr -> ios-pgr). */
function kebab(s: string): string {
  return s.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);
}

/** Filesystems, disks and fstrim (group 'storage'). */
export const storageHandlers = {
  'guest-get-fsinfo': async (_a, ctx) =>
    (await ctx.node.storage.filesystems()).map((f) => ({
      name: f.name,
      mountpoint: f.mountpoint,
      type: f.type,
      'used-bytes': f.usedBytes,
      'total-bytes': f.totalBytes,
      disk: f.disk.map(address),
    })),
  'guest-get-disks': async (_a, ctx) =>
    (await ctx.node.storage.disks()).map((d) => ({
      name: d.name,
      partition: d.partition,
      dependencies: d.dependencies,
      address: d.address && address(d.address),
      alias: d.alias,
    })),
  'guest-get-diskstats': async (_a, ctx) =>
    (await ctx.node.system.diskStats()).map((d) => ({
      name: d.name,
      major: d.major,
      minor: d.minor,
      stats: Object.fromEntries(Object.entries(d.stats).map(([k, v]) => [kebab(k), v])),
    })),
  'guest-fstrim': async (args: { minimum?: number }, ctx) => ({
    paths: (await ctx.node.storage.trim(Number(args.minimum ?? 0))).map((r) => ({
      path: r.path,
      trimmed: r.trimmed,
      minimum: r.minimum,
      error: r.error,
    })),
  }),
} satisfies GroupHandlers<'storage'>;
