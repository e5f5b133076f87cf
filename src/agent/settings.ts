// Every agent setting in one table (the settings engine's spec: src/settings/spec.ts): its key-file
// key and group, flags, environment variable, type, checks, default and help. Argument parsing, the
// config file, validation, --dump-conf, --help and docs/configuration.md all derive from it.
// The entries live in src/agent/settings/, one file per concern; the order here is the order of
// --help, --dump-conf and docs/configuration.md (qemu-ga's [general] keys first, as qemu-ga has them).
import { envNameOf, type SettingSpec } from '../settings/index.js';
import { CHANNEL_LIMITS } from './settings/channel-limits.js';
import { ENDPOINT } from './settings/endpoint.js';
import { FREEZE } from './settings/freeze.js';
import { GENERAL } from './settings/general.js';
import { GUEST_ACCESS } from './settings/guest-access.js';
import { KUBERNETES } from './settings/kubernetes.js';
import { NODE } from './settings/node.js';
import { VMWARE } from './settings/vmware.js';

export { LISTEN_RE } from './settings/endpoint.js';

/** The whole table. */
export const SETTINGS = [
  ...GENERAL,
  ...GUEST_ACCESS,
  ...FREEZE,
  ...NODE,
  ...CHANNEL_LIMITS,
  ...KUBERNETES,
  ...ENDPOINT,
  ...VMWARE,
] as const satisfies readonly SettingSpec[];

export type SettingKey = (typeof SETTINGS)[number]['key'];

/** Command-line requests that are not settings (qemu-ga's -h, -V, -D, -c). */
export const AGENT_ACTIONS = [
  {
    key: 'config',
    short: 'c',
    type: 'string',
    action: 'config',
    arg: 'PATH',
    noEnv: true,
    help: 'read a qemu-ga style key file ([general] and [guestlink] groups)',
  },
  {
    key: 'dump-conf',
    short: 'D',
    type: 'bool',
    action: 'dump-conf',
    noEnv: true,
    help: 'print the effective configuration as a key file and exit',
  },
  { key: 'version', short: 'V', type: 'bool', action: 'version', noEnv: true, help: 'print the version and exit' },
  { key: 'help', short: 'h', type: 'bool', action: 'help', noEnv: true, help: 'this text' },
] as const satisfies readonly SettingSpec[];

/** `fsfreeze-hook` -> `GUESTLINK_FSFREEZE_HOOK`. */
export function envName(key: string): string {
  return envNameOf('GUESTLINK', key);
}
