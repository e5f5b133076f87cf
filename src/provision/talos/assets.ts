// Where the Image Factory serves a schematic's assets (its docs/api.md and the paths Talos's
// pkg/machinery/platforms names): boot ISO, disk images, the installer image for upgrades, the iPXE
// script and the kernel command line. Pure strings; registering the schematic is the client's job.

import { clip } from '../../settings/index.js';
import { TalosInputError } from './errors.js';

export type Platform = 'metal' | 'nocloud';
export type Arch = 'amd64' | 'arm64';

export interface AssetRequest {
  /** The factory's base URL, e.g. https://factory.talos.dev. */
  factory: string;
  id: string;
  /** vX.Y.Z. */
  version: string;
  platform: Platform;
  arch: Arch;
  secureboot: boolean;
}

/** Every URL and image reference a Terraform or Proxmox user needs. */
export interface Assets {
  iso: string;
  diskImage: string;
  qcow2: string;
  installer: string;
  pxe: string;
  kernel: string;
  initramfs: string;
  cmdline: string;
}

/** v1.11.5 from 1.11.5 or v1.11.5; refuses anything else. */
export function normalizeVersion(v: string): string {
  const m = /^v?(\d+)\.(\d+)\.(\d+)(-[0-9A-Za-z.-]+)?$/.exec(v);
  if (!m) throw new TalosInputError(`--talos-version ${clip(v)}: a Talos release such as v1.11.5 is expected`);
  return `v${v.replace(/^v/, '')}`;
}

function atLeast(version: string, major: number, minor: number): boolean {
  const [a, b] = version.slice(1).split('.').map(Number) as [number, number];
  return a > major || (a === major && b >= minor);
}

/** The asset URLs for one schematic, version, platform and architecture. */
export function assetUrls(r: AssetRequest): Assets {
  const base = r.factory.replace(/\/+$/, '');
  const host = new URL(base).host;
  const sb = r.secureboot ? '-secureboot' : '';
  const image = `${base}/image/${r.id}/${r.version}`;
  // metal disk images are zstd-compressed from Talos 1.8 on (the factory UI's default); nocloud stays xz.
  const rawSuffix = r.platform === 'metal' && atLeast(r.version, 1, 8) ? 'raw.zst' : 'raw.xz';
  // Talos 1.10 brought platform installers (metal-installer, nocloud-installer); before it, installer/.
  const installerRepo = atLeast(r.version, 1, 10) ? `${r.platform}-installer${sb}` : `installer${sb}`;
  return {
    iso: `${image}/${r.platform}-${r.arch}${sb}.iso`,
    diskImage: `${image}/${r.platform}-${r.arch}${sb}.${rawSuffix}`,
    qcow2: `${image}/${r.platform}-${r.arch}${sb}.qcow2`,
    installer: `${host}/${installerRepo}/${r.id}:${r.version}`,
    pxe: `${base}/pxe/${r.id}/${r.version}/${r.platform}-${r.arch}${sb}`,
    kernel: `${image}/kernel-${r.arch}`,
    initramfs: `${image}/initramfs-${r.arch}.xz`,
    cmdline: `${image}/cmdline-${r.platform}-${r.arch}${sb}`,
  };
}
