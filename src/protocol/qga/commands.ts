// THE QGA command table: the single source of truth for names, arguments, return shapes and flags.
// Validation, guest-info, docs/commands.md and the CLI's generic `call` all derive from it.
// A data table: it grows by one entry per command, so it is exempt from the ~350-line file size.
import type { Members, TypeRef } from './schema.js';

/**
 * Which part of guestlink a command touches. Each group's handlers are one map that must name exactly
 * the group's commands (commands/index.ts), and the policy turns off-by-default commands on by group
 * (OPT_IN_GROUPS).
 */
export type CommandGroup =
  | 'control'
  | 'info'
  | 'network'
  | 'time'
  | 'power'
  | 'file'
  | 'exec'
  | 'freeze'
  | 'storage'
  | 'accounts'
  | 'hardware'
  | 'authenticate'
  | 'etcd';

/**
 * How the audit log records an argument instead of its value: `secret` as "[redacted]"; `bulk` (base64
 * payloads) as its size; `env` (KEY=VALUE entries) with the names kept and the values hidden; `argv`
 * (program arguments) with secret-looking values hidden (dispatch/redact.ts has the rule).
 */
export type ArgRedaction = 'secret' | 'bulk' | 'env' | 'argv';

export interface CommandSpec {
  /** Arguments in QAPI notation ('*name' optional); absent: takes none. */
  args?: Members;
  /** Return type; absent: returns {} (or nothing, for no-success-response commands). */
  returns?: TypeRef;
  /** qemu's 'success-response': false — no reply is sent when the command succeeds. */
  successResponse?: false;
  /** The qemu-ga version that introduced it (for docs and for clients that probe). */
  since: string;
  group: CommandGroup;
  /** Changes the guest: audit-logged. */
  mutating?: true;
  /**
   * Changes this machine beyond the agent's own allow-listed files and programs (power, freeze, clock,
   * passwords, SSH keys, vCPUs, memory, fstrim): the peer tests and the bench block every such command,
   * so a new one can never run against the machine the tests run on.
   */
  changesMachine?: true;
  /** Stays enabled while filesystems are frozen (qemu-ga's fixed list). */
  allowedWhileFrozen?: true;
  /** Off unless the configuration opts the command's group in (OPT_IN_GROUPS): guestlink's secure default. */
  offByDefault?: true;
  /** Arguments the audit log must not record as sent, and how it records them instead. */
  redact?: Readonly<Record<string, ArgRedaction>>;
  doc: string;
}

export const QGA_COMMANDS = {
  'guest-sync-delimited': {
    args: { id: 'int' },
    returns: 'int',
    since: '1.1',
    group: 'control',
    allowedWhileFrozen: true,
    doc: 'Echo `id`, the reply prefixed with byte 0xFF so a client can find it after garbage.',
  },
  'guest-sync': {
    args: { id: 'int' },
    returns: 'int',
    since: '0.15.0',
    group: 'control',
    allowedWhileFrozen: true,
    doc: 'Echo `id` to resynchronise the channel.',
  },
  'guest-ping': { since: '0.15.0', group: 'control', allowedWhileFrozen: true, doc: 'Check that the agent answers.' },
  'guest-info': {
    returns: 'GuestAgentInfo',
    since: '0.15.0',
    group: 'control',
    allowedWhileFrozen: true,
    doc: 'The agent version and every command with its enabled state.',
  },
  'guest-get-time': { returns: 'int', since: '1.5', group: 'time', doc: 'Guest time in nanoseconds since the epoch.' },
  'guest-set-time': {
    args: { '*time': 'int' },
    since: '1.5',
    group: 'time',
    mutating: true,
    changesMachine: true,
    doc: 'Set the clock to `time` (ns), or from the hardware clock when absent.',
  },
  'guest-shutdown': {
    args: { '*mode': 'str' },
    successResponse: false,
    since: '0.15.0',
    group: 'power',
    mutating: true,
    changesMachine: true,
    doc: 'Power down (default), halt or reboot through the node back end, after a drain where configured. No reply on success.',
  },
  'guest-suspend-disk': {
    successResponse: false,
    since: '1.1',
    group: 'power',
    mutating: true,
    changesMachine: true,
    doc: 'Suspend to disk. No reply on success.',
  },
  'guest-suspend-ram': {
    successResponse: false,
    since: '1.1',
    group: 'power',
    mutating: true,
    changesMachine: true,
    doc: 'Suspend to RAM. No reply on success.',
  },
  'guest-suspend-hybrid': {
    successResponse: false,
    since: '1.1',
    group: 'power',
    mutating: true,
    changesMachine: true,
    doc: 'Hybrid suspend. No reply on success.',
  },
  'guest-file-open': {
    args: { path: 'str', '*mode': 'str' },
    returns: 'int',
    since: '0.15.0',
    group: 'file',
    mutating: true,
    offByDefault: true,
    doc: 'Open a file allowed by --allow-file-read/--allow-file-write; returns a handle (from 1000, persisted).',
  },
  'guest-file-close': {
    args: { handle: 'int' },
    since: '0.15.0',
    group: 'file',
    mutating: true,
    offByDefault: true,
    doc: 'Close a handle.',
  },
  'guest-file-read': {
    args: { handle: 'int', '*count': 'int' },
    returns: 'GuestFileRead',
    since: '0.15.0',
    group: 'file',
    offByDefault: true,
    doc: 'Read up to `count` bytes (default 4096, at most 48 MiB), base64-encoded.',
  },
  'guest-file-write': {
    args: { handle: 'int', 'buf-b64': 'str', '*count': 'int' },
    returns: 'GuestFileWrite',
    since: '0.15.0',
    group: 'file',
    mutating: true,
    offByDefault: true,
    redact: { 'buf-b64': 'bulk' },
    doc: 'Write base64 data.',
  },
  'guest-file-seek': {
    args: { handle: 'int', offset: 'int', whence: 'GuestFileWhence' },
    returns: 'GuestFileSeek',
    since: '0.15.0',
    group: 'file',
    offByDefault: true,
    doc: 'Move the file position.',
  },
  'guest-file-flush': {
    args: { handle: 'int' },
    since: '0.15.0',
    group: 'file',
    mutating: true,
    offByDefault: true,
    doc: 'Flush written data.',
  },
  'guest-fsfreeze-status': {
    returns: 'GuestFsfreezeStatus',
    since: '0.15.0',
    group: 'freeze',
    allowedWhileFrozen: true,
    doc: '"frozen" or "thawed".',
  },
  'guest-fsfreeze-freeze': {
    returns: 'int',
    since: '0.15.0',
    group: 'freeze',
    mutating: true,
    changesMachine: true,
    doc: 'Run the freeze hook, then freeze every freezable filesystem; returns how many. A watchdog thaws after --fsfreeze-timeout.',
  },
  'guest-fsfreeze-freeze-list': {
    args: { '*mountpoints': ['str'] },
    returns: 'int',
    since: '2.2',
    group: 'freeze',
    mutating: true,
    changesMachine: true,
    doc: 'Freeze the listed mount points (all when absent).',
  },
  'guest-fsfreeze-thaw': {
    returns: 'int',
    since: '0.15.0',
    group: 'freeze',
    mutating: true,
    allowedWhileFrozen: true,
    doc: 'Thaw frozen filesystems, then run the thaw hook; returns how many were thawed.',
  },
  'guest-fstrim': {
    args: { '*minimum': 'int' },
    returns: 'GuestFilesystemTrimResponse',
    since: '1.2',
    group: 'storage',
    mutating: true,
    changesMachine: true,
    doc: 'Discard unused blocks on every mounted filesystem (FITRIM).',
  },
  'guest-network-get-interfaces': {
    returns: ['GuestNetworkInterface'],
    since: '1.1',
    group: 'network',
    doc: 'Interfaces with addresses and counters; CNI/virtual interfaces can be left out (--hide-interfaces).',
  },
  'guest-get-vcpus': {
    returns: ['GuestLogicalProcessor'],
    since: '1.5',
    group: 'hardware',
    doc: 'Logical CPUs with online and can-offline.',
  },
  'guest-set-vcpus': {
    args: { vcpus: ['GuestLogicalProcessor'] },
    returns: 'int',
    since: '1.5',
    group: 'hardware',
    mutating: true,
    changesMachine: true,
    doc: 'Online or offline logical CPUs; returns how many were processed.',
  },
  'guest-get-disks': { returns: ['GuestDiskInfo'], since: '5.2', group: 'storage', doc: 'Block devices and partitions.' },
  'guest-get-fsinfo': {
    returns: ['GuestFilesystemInfo'],
    since: '2.2',
    group: 'storage',
    doc: 'Mounted filesystems with usage and backing disks.',
  },
  'guest-set-user-password': {
    args: { username: 'str', password: 'str', crypted: 'bool' },
    since: '2.3',
    group: 'accounts',
    mutating: true,
    changesMachine: true,
    offByDefault: true,
    redact: { password: 'secret' },
    doc: 'Set a password (base64 of the plain text or of a crypt(3) hash) through chpasswd, where the OS allows it.',
  },
  'guest-get-memory-blocks': {
    returns: ['GuestMemoryBlock'],
    since: '2.3',
    group: 'hardware',
    doc: 'Memory blocks from /sys/devices/system/memory.',
  },
  'guest-set-memory-blocks': {
    args: { 'mem-blks': ['GuestMemoryBlock'] },
    returns: ['GuestMemoryBlockResponse'],
    since: '2.3',
    group: 'hardware',
    mutating: true,
    changesMachine: true,
    doc: 'Online or offline memory blocks.',
  },
  'guest-get-memory-block-info': {
    returns: 'GuestMemoryBlockInfo',
    since: '2.3',
    group: 'hardware',
    doc: 'The memory block size.',
  },
  'guest-exec-status': {
    args: { pid: 'int' },
    returns: 'GuestExecStatus',
    since: '2.5',
    group: 'exec',
    offByDefault: true,
    doc: 'Status and captured output of a process started by guest-exec; forgotten once reported exited.',
  },
  'guest-exec': {
    args: {
      path: 'str',
      '*arg': ['str'],
      '*env': ['str'],
      '*input-data': 'str',
      '*capture-output': 'GuestExecCaptureOutput',
    },
    returns: 'GuestExec',
    since: '2.5',
    group: 'exec',
    mutating: true,
    offByDefault: true,
    redact: { arg: 'argv', env: 'env', 'input-data': 'bulk' },
    doc: 'Start a program allowed by --allow-exec (no shell; arguments pinned where the entry says), with PATH, LANG=C and the --allow-exec-env variables only, within the --max-exec-* caps; returns its pid.',
  },
  'guest-get-host-name': { returns: 'GuestHostName', since: '2.10', group: 'info', doc: 'The host name.' },
  'guest-get-users': { returns: ['GuestUser'], since: '2.10', group: 'info', doc: 'Logged-in users (utmp).' },
  'guest-get-timezone': { returns: 'GuestTimezone', since: '2.10', group: 'time', doc: 'Time zone name and UTC offset.' },
  'guest-get-osinfo': {
    returns: 'GuestOSInfo',
    since: '2.10',
    group: 'info',
    doc: 'Kernel and OS release (os-release, or the Talos version).',
  },
  'guest-get-devices': {
    returns: ['any'],
    since: '5.2',
    group: 'hardware',
    doc: 'PCI devices with drivers (Windows only in qemu-ga; disabled on Linux, as there).',
  },
  'guest-ssh-get-authorized-keys': {
    args: { username: 'str' },
    returns: 'GuestAuthorizedKeys',
    since: '5.2',
    group: 'accounts',
    doc: "A user's ~/.ssh/authorized_keys.",
  },
  'guest-ssh-add-authorized-keys': {
    args: { username: 'str', keys: ['str'], '*reset': 'bool' },
    since: '5.2',
    group: 'accounts',
    mutating: true,
    changesMachine: true,
    offByDefault: true,
    doc: "Add keys to a user's authorized_keys (replace them with reset).",
  },
  'guest-ssh-remove-authorized-keys': {
    args: { username: 'str', keys: ['str'] },
    since: '5.2',
    group: 'accounts',
    mutating: true,
    changesMachine: true,
    offByDefault: true,
    doc: "Remove keys from a user's authorized_keys.",
  },
  'guest-get-diskstats': {
    returns: ['GuestDiskStatsInfo'],
    since: '7.1',
    group: 'storage',
    doc: 'Block device counters (/proc/diskstats).',
  },
  'guest-get-cpustats': { returns: ['GuestCpuStats'], since: '7.1', group: 'hardware', doc: 'Per-CPU times (/proc/stat).' },
  'guest-get-load': { returns: 'GuestLoadAverage', since: '9.1', group: 'info', doc: 'Load averages (/proc/loadavg).' },
  // guestlink's own: the management endpoint's in-band authentication (docs/identity.md).
  'guestlink-authenticate': {
    args: { token: 'str' },
    since: 'guestlink 0.2.0',
    group: 'authenticate',
    allowedWhileFrozen: true,
    offByDefault: true,
    doc: 'Management endpoint only (--listen tls:// with --listen-tokens): authenticate this connection with a Kubernetes bearer token for audience --token-audience, checked by a TokenReview; once per connection.',
  },
  // guestlink's own: consistent control-plane backups (docs/backup.md).
  'guestlink-etcd-snapshot': {
    returns: 'GuestlinkEtcdSnapshot',
    since: 'guestlink 0.2.0',
    group: 'etcd',
    mutating: true,
    offByDefault: true,
    doc: 'Take an etcd snapshot now into --etcd-snapshot-dir (digest and database checked, older ones rotated out); returns its path, revision, size and sha256. Off unless --etcd-snapshot-on-demand, which also lets guest-file-open read that directory (and nothing else) to copy it out.',
  },
  'guestlink-etcd-snapshot-status': {
    returns: 'GuestlinkEtcdSnapshotStatus',
    since: 'guestlink 0.2.0',
    group: 'etcd',
    allowedWhileFrozen: true,
    doc: 'Whether etcd snapshots are on, and how the last one (at a freeze or on demand) went: its file, or why it failed. Runs while frozen, so a host can check the backup it is taking.',
  },
} as const satisfies Record<string, CommandSpec>;

/** Every command name the protocol knows: handler maps, back ends' unsupported lists and policies are typed by it. */
export type CommandName = keyof typeof QGA_COMMANDS;

/** The commands of one group, as a union (each group's handler map must name exactly these). */
export type CommandsIn<G extends CommandGroup> = {
  [K in CommandName]: (typeof QGA_COMMANDS)[K]['group'] extends G ? K : never;
}[CommandName];

export const COMMAND_NAMES = Object.keys(QGA_COMMANDS) as CommandName[];

/**
 * Groups whose off-by-default commands a setting turns on: `enabledBy` names it (for docs and messages);
 * `byAllowRpcs` says that naming a command in -a/--allow-rpcs turns it on too. Exec and file commands
 * need their allow-lists (with none there is nothing they may touch), so -a alone is not enough there;
 * account commands have no list, so -a naming one is as explicit an opt-in as the flag.
 */
export const OPT_IN_GROUPS = {
  exec: { enabledBy: '--allow-exec', byAllowRpcs: false },
  file: { enabledBy: '--allow-file-read or --allow-file-write', byAllowRpcs: false },
  accounts: { enabledBy: '--allow-account-changes', byAllowRpcs: true },
  // Only meaningful on the management endpoint: on the hypervisor's channel there is nobody to authenticate.
  authenticate: { enabledBy: '--listen-tokens (with --listen)', byAllowRpcs: false },
  // `guestlink etcd-snapshot` copies the snapshot out with these: they come on with the group (their read
  // list then holds only the snapshot directory), while guest-file-write and -flush stay off.
  etcd: {
    enabledBy: '--etcd-snapshot-on-demand',
    byAllowRpcs: false,
    alsoEnables: ['guest-file-open', 'guest-file-read', 'guest-file-seek', 'guest-file-close'],
  },
} as const satisfies Partial<Record<CommandGroup, { enabledBy: string; byAllowRpcs: boolean; alsoEnables?: readonly string[] }>>;

/** A group some setting can turn on. */
export type OptInGroup = keyof typeof OPT_IN_GROUPS;

/** Commands that change this machine (`changesMachine`): what the peer tests and the bench always block. */
export const MACHINE_CHANGING_COMMANDS: readonly CommandName[] = COMMAND_NAMES.filter(
  (n) => (QGA_COMMANDS[n] as CommandSpec).changesMachine === true,
);

const COMMAND_SPECS: ReadonlyMap<string, CommandSpec> = new Map(Object.entries(QGA_COMMANDS));

/**
 * Argument names whose long values the JSON reader keeps as bytes instead of JS strings (json-bulk.ts):
 * those marked `bulk`, if every command with an argument of that name marks it so and types it 'str'
 * (another command's handler must never be handed bytes where it expects a string).
 */
export const BULK_ARGUMENTS: readonly string[] = (() => {
  const bulk = new Set<string>();
  const not = new Set<string>();
  for (const spec of COMMAND_SPECS.values()) {
    for (const [key, type] of Object.entries(spec.args ?? {})) {
      const name = key.replace(/^\*/, '');
      (spec.redact?.[name] === 'bulk' && type === 'str' ? bulk : not).add(name);
    }
  }
  return [...bulk].filter((n) => !not.has(n));
})();

/** The spec of a command, or undefined for names the protocol does not know. */
export function findCommand(name: string): CommandSpec | undefined {
  return COMMAND_SPECS.get(name);
}
