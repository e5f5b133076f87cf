// What the commands need from the node OS. Back ends (linux, talos, dry-run) implement these;
// commands depend only on node/interfaces: this file, and the folder beside it with one file per
// capability, all re-exported here. Shapes are plain data in the QGA vocabulary, camelCase.
import type { CommandName } from '../protocol/qga/commands.js';
import type { Accounts } from './interfaces/accounts.js';
import type { EtcdSnapshots } from './interfaces/etcd.js';
import type { FileAccess } from './interfaces/files.js';
import type { Network } from './interfaces/network.js';
import type { Power } from './interfaces/power.js';
import type { Storage } from './interfaces/storage.js';
import type { Clock, Hardware, SystemInfo } from './interfaces/system.js';

export type * from './interfaces/accounts.js';
export type * from './interfaces/etcd.js';
export type * from './interfaces/files.js';
export type * from './interfaces/network.js';
export type * from './interfaces/power.js';
export type * from './interfaces/processes.js';
export type * from './interfaces/storage.js';
export type * from './interfaces/system.js';

/** One node back end: everything the commands can ask of the OS. */
export interface NodeBackend {
  readonly name: string;
  system: SystemInfo;
  hardware: Hardware;
  network: Network;
  clock: Clock;
  storage: Storage;
  power: Power;
  accounts: Accounts;
  /** guest-file-*: opening files beneath the allow-listed directories. */
  files: FileAccess;
  /** etcd snapshots, on a control-plane node with --etcd-snapshot-dir set; absent elsewhere. */
  etcdSnapshots?: EtcdSnapshots;
  /** QGA commands this back end cannot serve at all: disabled in guest-info, as qemu-ga does. */
  unsupportedCommands: readonly CommandName[];
  /** Releases what the back end holds open (the Talos gRPC channel); absent when nothing is. */
  close?(): void | Promise<void>;
}
