// Every `guestlink cloud-init` setting in one table of the settings engine (src/settings/): its flag
// (--key, or `flag`), its key in the YAML settings file and its environment variable (GUESTLINK_CI_KEY)
// all derive from `key`, as the agent's settings table does; so do --help, shell completion and the
// settings table of docs/cloud-init.md. Precedence: flags > environment > file > defaults; a list from
// a higher source replaces the lower one (lists are not merged, so a flag can always narrow what a file says).
import {
  clip,
  envNameOf,
  type Layer,
  readEnv,
  readMapping,
  SettingError,
  type SettingSpec,
  type SettingValue,
} from '../../settings/index.js';

/** A value quoted for an error: JSON-escaped (a newline or ESC never reaches the terminal raw), cut at 80 characters. */
export const quoted = clip;

/** The prefix of the settings' environment variables. */
export const CI_ENV_PREFIX = 'GUESTLINK_CI';

/** Every `guestlink cloud-init` setting: flags, GUESTLINK_CI_* variables, file keys, help and docs come from it. */
export const CI_SETTINGS = [
  { key: 'hostname', arg: 'NAME', type: 'string', help: 'host name (a dotted name also sets the FQDN); required' },
  {
    key: 'instance-id',
    arg: 'ID',
    type: 'string',
    help: 'NoCloud instance-id; default iid-HOSTNAME (change it to make cloud-init run again)',
  },
  {
    key: 'user',
    arg: 'NAME',
    type: 'string',
    help: "user to create (sudo rights per --sudo); without it keys go to the image's default user",
  },
  {
    key: 'ssh-authorized-keys',
    arg: 'KEY',
    flag: 'ssh-authorized-key',
    type: 'list',
    split: 'lines',
    default: [],
    help: 'SSH public key (one per line in the environment)',
  },
  {
    key: 'ssh-authorized-keys-file',
    arg: 'FILE',
    type: 'list',
    split: ',',
    default: [],
    readsFile: true,
    completeFiles: true,
    help: 'file of SSH public keys, one per line (e.g. ~/.ssh/id_ed25519.pub)',
  },
  {
    key: 'password-hash',
    arg: 'HASH',
    type: 'string',
    secret: true,
    help: 'crypt(3) hash for --user ($6$, $5$, $y$, $2b$; make one with mkpasswd -m sha-512); prefer the env or a file',
  },
  {
    key: 'password-hash-file',
    arg: 'FILE',
    type: 'string',
    readsFile: true,
    completeFiles: true,
    secret: true,
    help: 'file holding the password hash (first line)',
  },
  { key: 'ssh-password-auth', type: 'bool', default: false, help: 'allow SSH password logins (keys only by default)' },
  {
    key: 'sudo',
    arg: 'RULE',
    type: 'string',
    default: 'nopasswd',
    choices: ['nopasswd', 'password', 'none'],
    help: 'sudo rule for --user: without password (as cloud images do), with password, or none',
  },
  { key: 'packages', arg: 'NAME', flag: 'package', type: 'list', split: ',', default: [], help: 'extra package to install' },
  { key: 'package-update', type: 'bool', default: false, help: 'refresh package lists on first boot' },
  { key: 'package-upgrade', type: 'bool', default: false, help: 'upgrade installed packages on first boot' },
  {
    key: 'guest-agent',
    arg: 'AGENT',
    type: 'string',
    default: 'qemu-guest-agent',
    choices: ['qemu-guest-agent', 'guestlink', 'none'],
    help: 'guest agent to install and start',
  },
  {
    key: 'guestlink-url',
    arg: 'URL',
    type: 'string',
    help: "URL of guestlink's self-contained agent executable (else: npm install -g guestlink)",
  },
  { key: 'guestlink-sha256', arg: 'HEX', type: 'string', help: 'SHA-256 of that executable; required with --guestlink-url' },
  { key: 'kubesolo', type: 'bool', default: false, help: 'install KubeSolo with its install script' },
  { key: 'kubesolo-install-url', arg: 'URL', type: 'string', default: 'https://get.kubesolo.io', help: 'KubeSolo install script URL' },
  { key: 'kubesolo-version', arg: 'VERSION', type: 'string', help: 'KubeSolo version (--version=vX.Y.Z); default: the script picks' },
  { key: 'kubesolo-path', arg: 'PATH', type: 'string', help: 'KubeSolo data directory (--path; default /var/lib/kubesolo)' },
  {
    key: 'kubesolo-apiserver-extra-sans',
    arg: 'NAME|IP',
    flag: 'kubesolo-apiserver-extra-san',
    type: 'list',
    split: ',',
    default: [],
    help: 'extra API server certificate name or IP',
  },
  { key: 'kubesolo-local-storage', type: 'bool', default: false, help: "enable KubeSolo's local-path storage class" },
  { key: 'kubesolo-proxy', arg: 'URL', type: 'string', help: 'HTTP(S) proxy URL for KubeSolo (--proxy)' },
  { key: 'timezone', arg: 'ZONE', type: 'string', help: 'time zone, e.g. Europe/Berlin or UTC' },
  {
    key: 'net',
    arg: 'MODE',
    type: 'string',
    default: 'auto',
    choices: ['auto', 'dhcp', 'static'],
    help: "auto: no network-config (cloud-init's DHCP fallback on the first NIC); dhcp or static: write network-config v2",
  },
  { key: 'net-interface', arg: 'NAME', type: 'string', default: 'eth0', help: 'interface name for dhcp/static' },
  { key: 'net-mac', arg: 'MAC', type: 'string', help: 'match the interface by MAC address and rename it to --net-interface' },
  {
    key: 'net-addresses',
    arg: 'CIDR',
    flag: 'net-address',
    type: 'list',
    split: ',',
    default: [],
    help: 'static address in CIDR form, IPv4 or IPv6',
  },
  { key: 'net-gateways', arg: 'IP', flag: 'net-gateway', type: 'list', split: ',', default: [], help: 'default gateway, IPv4 and/or IPv6' },
  { key: 'net-dns', arg: 'IP', type: 'list', split: ',', default: [], help: 'DNS server address' },
  { key: 'net-search', arg: 'DOMAIN', type: 'list', split: ',', default: [], help: 'DNS search domain' },
  {
    key: 'vendor-data-file',
    arg: 'FILE',
    type: 'string',
    readsFile: true,
    completeFiles: true,
    help: 'file to add to the seed as vendor-data',
  },
] as const satisfies readonly SettingSpec[];

/** A cloud-init setting's key. */
export type CiKey = (typeof CI_SETTINGS)[number]['key'];
/** A cloud-init setting's typed value. */
export type CiValue = SettingValue;
/** Settings by key (kebab-case, as in the file): what a source gives, or all of them merged. */
export type CiRaw = Partial<Record<CiKey, CiValue>>;

/** Thrown for a setting that is missing, malformed or contradicts another; the message names the setting. */
export class CloudInitSettingError extends Error {
  readonly code = 'CLOUD_INIT_SETTING';
}

/** The environment variable of a setting: GUESTLINK_CI_ plus the key in upper snake case. */
export function ciEnvName(key: string): string {
  return envNameOf(CI_ENV_PREFIX, key);
}

/** Runs `fn`, turning the settings engine's errors into CloudInitSettingErrors (same message; exit 2). */
export function asCiError<T>(fn: () => T): T {
  try {
    return fn();
  } catch (err) {
    if (err instanceof SettingError) throw new CloudInitSettingError(err.message);
    throw err;
  }
}

/** A source's layer (the engine's map by key) as settings by key. */
export function rawOf(layer: Layer): CiRaw {
  return Object.fromEntries(layer) as CiRaw;
}

/** Reads GUESTLINK_CI_* variables of the table; unknown GUESTLINK_CI_* names are refused so a typo is not silently ignored. */
export function readCiEnv(env: Readonly<Record<string, string | undefined>>, extraNames: readonly string[] = []): CiRaw {
  return asCiError(() => rawOf(readEnv(CI_SETTINGS, env, { prefix: CI_ENV_PREFIX, refuseUnknown: true, knownExtra: extraNames })));
}

/** Reads the YAML settings file's top-level mapping (keys as in the table); unknown keys are refused. */
export function readCiFile(doc: unknown, fileName: string): CiRaw {
  if (doc === null || doc === undefined) return {};
  if (typeof doc !== 'object' || Array.isArray(doc)) throw new CloudInitSettingError(`${fileName}: a mapping of settings is expected`);
  return asCiError(() => rawOf(readMapping(CI_SETTINGS, Object.entries(doc), { source: fileName })));
}

/** Merges the sources by precedence (later wins) over the defaults of the table. */
export function mergeCi(...sources: readonly CiRaw[]): CiRaw {
  const merged: CiRaw = {};
  for (const spec of CI_SETTINGS as readonly SettingSpec[]) if (spec.default !== undefined) merged[spec.key as CiKey] = spec.default;
  for (const s of sources) Object.assign(merged, s);
  return merged;
}
