// Filesystems and disks (guest-get-fsinfo, guest-get-disks), the freeze and fstrim.
// One of the node interfaces (node/interfaces.ts re-exports them all).

export interface PciAddress {
  domain: number;
  bus: number;
  slot: number;
  function: number;
}

export interface DiskAddress {
  pciController: PciAddress;
  busType: string;
  bus: number;
  target: number;
  unit: number;
  serial?: string;
  dev?: string;
}

export interface DiskInfo {
  name: string;
  partition: boolean;
  dependencies?: string[];
  address?: DiskAddress;
  alias?: string;
}

export interface FilesystemInfo {
  name: string;
  mountpoint: string;
  type: string;
  usedBytes?: number | bigint;
  totalBytes?: number | bigint;
  disk: DiskAddress[];
}

export interface TrimResult {
  path: string;
  trimmed?: number | bigint;
  minimum?: number | bigint;
  error?: string;
}

export interface Storage {
  filesystems(): Promise<FilesystemInfo[]>;
  disks(): Promise<DiskInfo[]>;
  /** Mount points that can be frozen, in mount order (freeze goes in reverse). */
  freezableMounts(): Promise<string[]>;
  /** Freezes one filesystem; false when it was skipped (cannot be frozen, or already frozen). */
  freeze(mountpoint: string): Promise<boolean>;
  /** Thaws one filesystem; false when it was not frozen. */
  thaw(mountpoint: string): Promise<boolean>;
  trim(minimum: number): Promise<TrimResult[]>;
}
