// qemu-ga's own [general] settings, in qemu-ga's order: the channel, logging, the freeze hook, the state
// directory and which commands are enabled.
// One part of the agent's settings table: src/agent/settings.ts joins the parts, in a fixed order.
import type { SettingSpec } from '../../settings/index.js';

/** The general settings, in their --help and docs order. */
export const GENERAL = [
  {
    key: 'method',
    group: 'general',
    type: 'string',
    short: 'm',
    default: 'virtio-serial',
    choices: ['virtio-serial', 'isa-serial', 'unix-listen', 'vsock-listen'],
    help: 'transport method (vsock-listen is recognised but not supported yet)',
  },
  {
    key: 'path',
    group: 'general',
    type: 'string',
    short: 'p',
    help: 'device or socket path (virtio-serial: /dev/virtio-ports/org.qemu.guest_agent.0, isa-serial: /dev/ttyS0)',
  },
  { key: 'logfile', group: 'general', type: 'string', short: 'l', help: 'log file (JSON lines); stderr by default' },
  { key: 'pidfile', group: 'general', type: 'string', short: 'f', help: 'write the process id to this file' },
  {
    key: 'fsfreeze-hook',
    absolute: true,
    group: 'general',
    type: 'string',
    short: 'F',
    optionalValue: '/etc/qemu/fsfreeze-hook',
    help: 'run this script with freeze/thaw around fsfreeze (-F alone: /etc/qemu/fsfreeze-hook; a value must be glued: -F/path)',
  },
  {
    key: 'statedir',
    absolute: true,
    group: 'general',
    type: 'string',
    short: 't',
    default: '/var/run',
    help: "directory for persistent state (file handle counter, frozen marker); must belong to the agent's user and not be writable by group or others",
  },
  { key: 'verbose', group: 'general', type: 'bool', short: 'v', default: false, help: 'log debug messages' },
  {
    key: 'daemon',
    group: 'general',
    type: 'bool',
    short: 'd',
    default: false,
    help: 'accepted for compatibility; guestlink stays in the foreground (use a service manager)',
  },
  {
    key: 'retry-path',
    group: 'general',
    type: 'bool',
    short: 'r',
    default: false,
    help: 'keep reopening the device path when it is missing or fails',
  },
  {
    key: 'block-rpcs',
    aliases: ['blacklist'],
    group: 'general',
    type: 'list',
    short: 'b',
    default: [],
    help: 'commands to disable (comma-separated; "help" lists them)',
  },
  {
    key: 'allow-rpcs',
    group: 'general',
    type: 'list',
    short: 'a',
    default: [],
    help: 'only these commands are enabled (comma-separated; "help" lists them)',
  },
] as const satisfies readonly SettingSpec[];
