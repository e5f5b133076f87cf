// Every `guestlink cloud-init` setting in one table: its flag (--key), its key in the YAML settings
// file and its environment variable (GUESTLINK_CI_KEY) all derive from `key`, as the agent's
// settings table does. Precedence: flags > environment > file > defaults; a list from a higher source
// replaces the lower one (lists are not merged, so a flag can always narrow what a file says).

export type CiSettingType = 'string' | 'bool' | 'list';

export interface CiSettingSpec {
  key: string;
  type: CiSettingType;
  /** Flag name when it differs from key: lists take one item per flag, so their flag is singular. */
  flag?: string;
  /** How a list arrives in one string (environment, or a flag value): one item per line, or comma-separated. */
  split?: 'lines' | 'comma';
  default?: string | boolean | readonly string[];
  choices?: readonly string[];
  /** The value is a path (or paths) the CLI reads; the setting's text is the file's content. */
  readsFile?: boolean;
  /** Never echoed in errors or logs. */
  secret?: boolean;
  help: string;
}

export const CI_SETTINGS = [
  { key: 'hostname', type: 'string', help: 'host name (a dotted name also sets the FQDN); required' },
  { key: 'instance-id', type: 'string', help: 'NoCloud instance-id; default iid-HOSTNAME (change it to make cloud-init run again)' },
  { key: 'user', type: 'string', help: "user to create (sudo rights per --sudo); without it keys go to the image's default user" },
  {
    key: 'ssh-authorized-keys',
    flag: 'ssh-authorized-key',
    type: 'list',
    split: 'lines',
    default: [],
    help: 'SSH public key (repeatable; one per line in the environment)',
  },
  {
    key: 'ssh-authorized-keys-file',
    type: 'list',
    split: 'comma',
    default: [],
    readsFile: true,
    help: 'file of SSH public keys, one per line (repeatable; e.g. ~/.ssh/id_ed25519.pub)',
  },
  {
    key: 'password-hash',
    type: 'string',
    secret: true,
    help: 'crypt(3) hash for --user ($6$, $5$, $y$, $2b$; make one with mkpasswd -m sha-512); prefer the env or a file',
  },
  { key: 'password-hash-file', type: 'string', readsFile: true, secret: true, help: 'file holding the password hash (first line)' },
  { key: 'ssh-password-auth', type: 'bool', default: false, help: 'allow SSH password logins (keys only by default)' },
  {
    key: 'sudo',
    type: 'string',
    default: 'nopasswd',
    choices: ['nopasswd', 'password', 'none'],
    help: 'sudo rule for --user: without password (as cloud images do), with password, or none',
  },
  { key: 'packages', flag: 'package', type: 'list', split: 'comma', default: [], help: 'extra package to install (repeatable)' },
  { key: 'package-update', type: 'bool', default: false, help: 'refresh package lists on first boot' },
  { key: 'package-upgrade', type: 'bool', default: false, help: 'upgrade installed packages on first boot' },
  {
    key: 'guest-agent',
    type: 'string',
    default: 'qemu-guest-agent',
    choices: ['qemu-guest-agent', 'guestlink', 'none'],
    help: 'guest agent to install and start',
  },
  { key: 'guestlink-url', type: 'string', help: "URL of guestlink's self-contained agent executable (else: npm install -g guestlink)" },
  { key: 'guestlink-sha256', type: 'string', help: 'SHA-256 of that executable; required with --guestlink-url' },
  { key: 'kubesolo', type: 'bool', default: false, help: 'install KubeSolo with its install script' },
  { key: 'kubesolo-install-url', type: 'string', default: 'https://get.kubesolo.io', help: 'KubeSolo install script URL' },
  { key: 'kubesolo-version', type: 'string', help: 'KubeSolo version (--version=vX.Y.Z); default: the script picks' },
  { key: 'kubesolo-path', type: 'string', help: 'KubeSolo data directory (--path; default /var/lib/kubesolo)' },
  {
    key: 'kubesolo-apiserver-extra-sans',
    flag: 'kubesolo-apiserver-extra-san',
    type: 'list',
    split: 'comma',
    default: [],
    help: 'extra API server certificate name or IP (repeatable)',
  },
  { key: 'kubesolo-local-storage', type: 'bool', default: false, help: "enable KubeSolo's local-path storage class" },
  { key: 'kubesolo-proxy', type: 'string', help: 'HTTP(S) proxy URL for KubeSolo (--proxy)' },
  { key: 'timezone', type: 'string', help: 'time zone, e.g. Europe/Berlin or UTC' },
  {
    key: 'net',
    type: 'string',
    default: 'auto',
    choices: ['auto', 'dhcp', 'static'],
    help: "auto: no network-config (cloud-init's DHCP fallback on the first NIC); dhcp or static: write network-config v2",
  },
  { key: 'net-interface', type: 'string', default: 'eth0', help: 'interface name for dhcp/static' },
  { key: 'net-mac', type: 'string', help: 'match the interface by MAC address and rename it to --net-interface' },
  {
    key: 'net-addresses',
    flag: 'net-address',
    type: 'list',
    split: 'comma',
    default: [],
    help: 'static address in CIDR form, IPv4 or IPv6 (repeatable)',
  },
  { key: 'net-gateways', flag: 'net-gateway', type: 'list', split: 'comma', default: [], help: 'default gateway, IPv4 and/or IPv6' },
  { key: 'net-dns', type: 'list', split: 'comma', default: [], help: 'DNS server address (repeatable)' },
  { key: 'net-search', type: 'list', split: 'comma', default: [], help: 'DNS search domain (repeatable)' },
  { key: 'vendor-data-file', type: 'string', readsFile: true, help: 'file to add to the seed as vendor-data' },
] as const satisfies readonly CiSettingSpec[];

export type CiKey = (typeof CI_SETTINGS)[number]['key'];
export type CiValue = string | boolean | readonly string[];
export type CiRaw = Partial<Record<CiKey, CiValue>>;

/** Thrown for a setting that is missing, malformed or contradicts another; the message names the setting. */
export class CloudInitSettingError extends Error {
  readonly code = 'CLOUD_INIT_SETTING';
}

/** The environment variable of a setting: GUESTLINK_CI_ plus the key in upper snake case. */
export function ciEnvName(key: string): string {
  return `GUESTLINK_CI_${key.toUpperCase().replace(/-/g, '_')}`;
}

/** The flag of a setting, without the dashes. */
export function ciFlag(spec: CiSettingSpec): string {
  return spec.flag ?? spec.key;
}

export function findCiSetting(key: string): CiSettingSpec | undefined {
  return (CI_SETTINGS as readonly CiSettingSpec[]).find((s) => s.key === key);
}

/** Converts one raw value (a string from the environment or a flag, or a YAML value) to the setting's type. */
export function convertCi(spec: CiSettingSpec, value: unknown, from: string): CiValue {
  const where = from;
  switch (spec.type) {
    case 'bool':
      if (typeof value === 'boolean') return value;
      if (typeof value === 'string' && /^(true|1|yes|on)$/i.test(value)) return true;
      if (typeof value === 'string' && /^(false|0|no|off)$/i.test(value)) return false;
      throw new CloudInitSettingError(`${where}: true or false is expected`);
    case 'list': {
      const items = Array.isArray(value) ? value : [value];
      const out: string[] = [];
      for (const item of items) {
        if (typeof item !== 'string' && typeof item !== 'number')
          throw new CloudInitSettingError(`${where}: a list of strings is expected`);
        out.push(...splitItems(String(item), spec.split ?? 'comma'));
      }
      return out;
    }
    default: {
      if (typeof value !== 'string' && typeof value !== 'number')
        throw new CloudInitSettingError(`${where}: a string is expected${spec.secret ? '' : `, got ${JSON.stringify(value)}`}`);
      const s = String(value).trim();
      const choices = spec.choices as readonly string[] | undefined;
      if (choices && !choices.includes(s)) throw new CloudInitSettingError(`${where}: "${s}" is not one of ${choices.join(', ')}`);
      return s;
    }
  }
}

function splitItems(text: string, split: 'lines' | 'comma'): string[] {
  const parts = split === 'lines' ? text.split(/\r?\n/) : text.split(',');
  return parts.map((p) => p.trim()).filter((p) => p !== '');
}

/** Reads GUESTLINK_CI_* variables of the table; unknown GUESTLINK_CI_* names are refused so a typo is not silently ignored. */
export function readCiEnv(env: Readonly<Record<string, string | undefined>>, extraNames: readonly string[] = []): CiRaw {
  const raw: CiRaw = {};
  const known = new Set([...CI_SETTINGS.map((s) => ciEnvName(s.key)), ...extraNames]);
  for (const name of Object.keys(env)) {
    if (name.startsWith('GUESTLINK_CI_') && !known.has(name))
      throw new CloudInitSettingError(`unknown environment variable ${name} (see guestlink cloud-init --help)`);
  }
  for (const spec of CI_SETTINGS as readonly CiSettingSpec[]) {
    const value = env[ciEnvName(spec.key)];
    if (value !== undefined) raw[spec.key as CiKey] = convertCi(spec, value, ciEnvName(spec.key));
  }
  return raw;
}

/** Reads the YAML settings file's top-level mapping (keys as in the table); unknown keys are refused. */
export function readCiFile(doc: unknown, fileName: string): CiRaw {
  if (doc === null || doc === undefined) return {};
  if (typeof doc !== 'object' || Array.isArray(doc)) throw new CloudInitSettingError(`${fileName}: a mapping of settings is expected`);
  const raw: CiRaw = {};
  for (const [key, value] of Object.entries(doc as Record<string, unknown>)) {
    const spec = findCiSetting(key);
    if (!spec) throw new CloudInitSettingError(`${fileName}: unknown setting "${key}"`);
    if (value === null) continue;
    raw[key as CiKey] = convertCi(spec, value, `${fileName}: ${key}`);
  }
  return raw;
}

/** Merges the sources by precedence (later wins) over the defaults of the table. */
export function mergeCi(...sources: readonly CiRaw[]): CiRaw {
  const merged: CiRaw = {};
  for (const spec of CI_SETTINGS as readonly CiSettingSpec[]) if (spec.default !== undefined) merged[spec.key as CiKey] = spec.default;
  for (const s of sources) Object.assign(merged, s);
  return merged;
}
