// The Talos back end: power, host name, OS, network, filesystems and load through the Talos API;
// kernel-wide facts through the Linux readers; the rest refused (see UNSUPPORTED).

import { loadNative } from '../../native/addon.js';
import type { CommandName } from '../../protocol/qga/commands.js';
import { errors } from '../../protocol/qga/errors.js';
import { createFileAccess } from '../files/file-access.js';
import type { Accounts, Clock, EtcdSnapshots, FileAccess, Hardware, NodeBackend } from '../interfaces.js';
import { LinuxClock } from '../linux/clock.js';
import { LinuxStorage } from '../linux/storage.js';
import { LinuxSystemInfo } from '../linux/system.js';
import type { TalosApi } from './api.js';
import { TalosClient, type TalosTarget } from './client.js';
import type { RebootMode } from './messages.js';
import { TalosNetwork } from './network.js';
import { TalosPower } from './power.js';
import { type Refresh, ReloadingTalosApi } from './reloading-api.js';
import { TalosStorage } from './storage.js';
import { TalosSystemInfo } from './system.js';

/**
 * QGA commands the Talos back end refuses (disabled in guest-info, CommandNotFound), each because
 * Talos owns that part of the node and has no API the agent may use for it:
 */
export const UNSUPPORTED: readonly CommandName[] = [
  'guest-get-devices', // Windows-only in qemu-ga too
  'guest-suspend-disk', // Talos has no suspend
  'guest-suspend-ram',
  'guest-suspend-hybrid',
  'guest-set-time', // Talos's timed owns the clock (NTP); setting it behind its back would be undone
  'guest-set-vcpus', // no API; /sys is read-only in a pod and CPUs are the node's business
  'guest-set-memory-blocks',
  'guest-fsfreeze-status', // no freeze API; the node's mounts are not in the agent's namespace
  'guest-fsfreeze-freeze',
  'guest-fsfreeze-freeze-list',
  'guest-fsfreeze-thaw',
  'guest-fstrim', // same: the mounts are not ours to ioctl
  'guest-set-user-password', // Talos has no user accounts, passwords or SSH
  'guest-ssh-get-authorized-keys',
  'guest-ssh-add-authorized-keys',
  'guest-ssh-remove-authorized-keys',
];

export interface TalosBackendOptions {
  target: TalosTarget;
  timeoutMs: number;
  rebootMode: RebootMode;
  /** Root for the Linux readers (tests); default '/'. */
  root?: string;
  /** Injected API (unit tests); default a TalosClient on `target`. */
  api?: TalosApi;
  /** Follow the talosconfig file (DaemonSet mode): reconnect when it changes. */
  refresh?: Refresh;
  /** guest-file-*'s opener (tests); default the shared one, through the native addon when built. */
  files?: FileAccess;
}

const noHardware: Hardware = {
  setVcpus: async () => {
    throw errors.unsupported('guest-set-vcpus on Talos');
  },
  setMemoryBlocks: async () => {
    throw errors.unsupported('guest-set-memory-blocks on Talos');
  },
};

const noAccounts: Accounts = {
  setPassword: async () => {
    throw errors.unsupported('Talos has no user accounts');
  },
  authorizedKeys: async () => {
    throw errors.unsupported('Talos has no user accounts');
  },
  addAuthorizedKeys: async () => {
    throw errors.unsupported('Talos has no user accounts');
  },
  removeAuthorizedKeys: async () => {
    throw errors.unsupported('Talos has no user accounts');
  },
};

/** Reading the clock is the kernel's (shared); setting it is timed's. */
function talosClock(): Clock {
  const linux = new LinuxClock();
  return {
    now: () => linux.now(),
    set: async () => {
      throw errors.unsupported('Talos sets its clock by NTP (timed)');
    },
  };
}

export function createTalosBackend(opts: TalosBackendOptions): NodeBackend & { readonly api: TalosApi; close(): void } {
  const root = opts.root ?? '/';
  const clientOpts = { timeoutMs: opts.timeoutMs };
  const client = opts.api
    ? undefined
    : opts.refresh
      ? new ReloadingTalosApi(opts.target, opts.refresh, clientOpts)
      : new TalosClient(opts.target, clientOpts);
  const api: TalosApi = opts.api ?? (client as TalosApi);
  return {
    name: 'talos',
    api,
    system: new TalosSystemInfo(api, new LinuxSystemInfo(root, { tz: 'UTC' })),
    hardware: noHardware,
    network: new TalosNetwork(api),
    clock: talosClock(),
    storage: new TalosStorage(api, new LinuxStorage(root)),
    power: new TalosPower(api, opts.rebootMode),
    accounts: noAccounts,
    // The agent's own view of the node's filesystem (a hostPath mount in a DaemonSet, the host in an extension).
    files: opts.files ?? createFileAccess({ native: loadNative() }),
    unsupportedCommands: UNSUPPORTED,
    close: () => client?.close(),
  };
}

/**
 * The back end with etcd snapshots. guest-fsfreeze-freeze and -freeze-list then reach the freeze
 * handler, which takes the snapshot before it is told that Talos cannot freeze (so a Proxmox backup
 * carries the snapshot even unfrozen); status and thaw stay disabled as before.
 */
export function withEtcdSnapshots<T extends NodeBackend>(backend: T, etcdSnapshots: EtcdSnapshots): T {
  const freeze = new Set(['guest-fsfreeze-freeze', 'guest-fsfreeze-freeze-list']);
  return { ...backend, etcdSnapshots, unsupportedCommands: backend.unsupportedCommands.filter((c) => !freeze.has(c)) };
}
