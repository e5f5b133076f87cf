// The option tables of `guestlink talos schematic`, `guestlink talos network` and
// `guestlink cloud-init --talos`, in the settings engine's form (src/settings/): their parsing, --help,
// shell completion and the tables of docs/cli.md derive from these. The network flags and the caps are
// shared by all three.
import { TalosInputError } from '../provision/talos/errors.js';
import { FlagIndex, parseArgv, resolve, SettingError, type SettingSpec, type SettingsOf, type SettingValue } from '../settings/index.js';
import { STRICT } from './options.js';

/** The network flags of `talos schematic`, `talos network` and `cloud-init --talos`. */
export const TALOS_NETWORK_OPTIONS = [
  { key: 'address', type: 'list', split: 'none', arg: 'CIDR', help: 'static address with prefix (IPv4 and/or IPv6)' },
  {
    key: 'gateway',
    type: 'list',
    split: 'none',
    arg: 'IP',
    help: 'default gateway (one IPv4 and one IPv6 at most; must be inside a subnet)',
  },
  { key: 'link', type: 'string', arg: 'NAME', help: 'the link (ens18 for Proxmox virtio, enp1s0 for libvirt q35)' },
  { key: 'link-mac', type: 'string', arg: 'MAC', help: "the link by its MAC (becomes Talos's alternative link name enx<mac>)" },
  { key: 'hostname', type: 'string', arg: 'NAME', help: 'host name (a dotted name also sets the domain)' },
  { key: 'dns', type: 'list', split: 'none', arg: 'IP', help: 'DNS server' },
  { key: 'time-server', type: 'list', split: 'none', arg: 'HOST', help: 'NTP server' },
  { key: 'mtu', type: 'int', arg: 'N', help: 'link MTU (576-65535; 1280 and up with IPv6)' },
] as const satisfies readonly SettingSpec[];

/** Caps (docs/security.md): bytes of any one input file, YAML nodes after aliases, nodes in nodes.json. */
export const TALOS_CAP_OPTIONS = [
  { key: 'max-input-bytes', type: 'int', min: 1, default: 1 << 20, arg: 'N', help: 'largest input file read' },
  {
    key: 'max-yaml-nodes',
    type: 'int',
    min: 1,
    default: 100_000,
    arg: 'N',
    help: 'most YAML nodes in one file, aliases counted each use',
  },
  { key: 'max-nodes', type: 'int', min: 1, default: 1000, arg: 'N', help: 'most nodes in nodes.json' },
] as const satisfies readonly SettingSpec[];

const HELP = { key: 'help', short: 'h', type: 'bool', action: 'help', help: 'show this help' } as const;

/** `talos schematic`'s own options (the network flags and caps are added in SCHEMATIC_OPTIONS). */
export const SCHEMATIC_OWN_OPTIONS = [
  {
    key: 'extension',
    type: 'list',
    split: 'none',
    arg: 'NAME',
    help: 'official system extension, e.g. siderolabs/qemu-guest-agent',
  },
  { key: 'kernel-arg', type: 'list', split: 'none', arg: 'ARG', help: 'extra kernel argument (order kept)' },
  {
    key: 'meta',
    type: 'list',
    split: 'none',
    arg: 'KEY=VALUE',
    help: 'META entry, KEY 0-255 or 0x0-0xff; KEY=@FILE reads the value from FILE',
  },
  {
    key: 'file',
    short: 'f',
    type: 'string',
    arg: 'FILE',
    completeFiles: true,
    help: 'start from this schematic file, - for stdin (strict: unknown fields are refused)',
  },
  {
    key: 'nodes',
    type: 'string',
    arg: 'FILE',
    completeFiles: true,
    help: 'one schematic per node: nodes.json with name, address, role (docs/talos-images.md)',
  },
  { key: 'factory', type: 'string', arg: 'URL', help: 'register with this Image Factory (POST /schematics) and check its ID' },
  {
    key: 'factory-timeout',
    type: 'number',
    default: 30,
    check: (v: unknown) => ((v as number) > 0 ? undefined : 'must be a positive number of seconds'),
    arg: 'SECONDS',
    help: 'per request to the factory',
  },
  { key: 'talos-version', type: 'string', arg: 'V', help: 'print asset URLs for this Talos release (needs --factory)' },
  {
    key: 'platform',
    type: 'string',
    choices: ['metal', 'nocloud'],
    default: 'metal',
    arg: 'PLATFORM',
    help: "the assets' platform (META key 10 is read only on metal; needs --talos-version)",
  },
  { key: 'arch', type: 'string', choices: ['amd64', 'arm64'], default: 'amd64', arg: 'ARCH', help: "the assets' architecture" },
  { key: 'secureboot', type: 'bool', help: 'SecureBoot assets' },
  {
    key: 'output-dir',
    type: 'string',
    arg: 'DIR',
    completeFiles: true,
    help: 'write schematic.yaml, schematic.id and talos.auto.tfvars.json (per node with --nodes)',
  },
  {
    key: 'output',
    short: 'o',
    type: 'string',
    choices: ['yaml', 'json', 'id', 'summary'],
    arg: 'FORMAT',
    help: 'what is printed (default yaml; summary with --factory or --nodes)',
  },
  { key: 'quiet', short: 'q', type: 'bool', help: 'nothing on stderr but errors' },
  HELP,
] as const satisfies readonly SettingSpec[];

/** Every option of `guestlink talos schematic`. */
export const SCHEMATIC_OPTIONS = [...SCHEMATIC_OWN_OPTIONS, ...TALOS_NETWORK_OPTIONS, ...TALOS_CAP_OPTIONS] as const;

/** `talos network`'s own options (the network flags are added in NETWORK_VERB_OPTIONS). */
export const NETWORK_VERB_OWN_OPTIONS = [
  { key: 'output', short: 'o', type: 'string', choices: ['yaml', 'json'], default: 'yaml', arg: 'FORMAT', help: 'what is printed' },
  HELP,
] as const satisfies readonly SettingSpec[];

/** Every option of `guestlink talos network`. */
export const NETWORK_VERB_OPTIONS = [...NETWORK_VERB_OWN_OPTIONS, ...TALOS_NETWORK_OPTIONS] as const;

/** `cloud-init --talos`'s own options (the network flags and caps are added in TALOS_SEED_OPTIONS). */
export const TALOS_SEED_OWN_OPTIONS = [
  { key: 'talos', type: 'bool', help: 'a Talos nocloud seed instead of a cloud-init one' },
  {
    key: 'machine-config',
    type: 'string',
    arg: 'FILE',
    completeFiles: true,
    help: "talosctl gen config's controlplane.yaml or worker.yaml",
  },
  {
    key: 'worker-config',
    type: 'string',
    arg: 'FILE',
    completeFiles: true,
    help: 'with --nodes: the config for role worker (else --machine-config for all)',
  },
  { key: 'instance-id', type: 'string', arg: 'ID', help: 'NoCloud instance-id (default iid-HOSTNAME)' },
  {
    key: 'nodes',
    type: 'string',
    arg: 'FILE',
    completeFiles: true,
    help: 'one seed per node (name, address, role; docs/talos-images.md)',
  },
  {
    key: 'out-dir',
    type: 'string',
    arg: 'DIR',
    completeFiles: true,
    help: 'the three files (with --nodes: DIR/NAME/); mode 0600, they hold secrets',
  },
  { key: 'iso', type: 'string', arg: 'PATH', completeFiles: true, help: 'the cidata ISO' },
  { key: 'iso-dir', type: 'string', arg: 'DIR', completeFiles: true, help: 'with --nodes: DIR/NAME.iso per node' },
  { key: 'print', type: 'bool', help: 'print network-config on stdout' },
  HELP,
] as const satisfies readonly SettingSpec[];

/** Every option of `guestlink cloud-init --talos`. */
export const TALOS_SEED_OPTIONS = [...TALOS_SEED_OWN_OPTIONS, ...TALOS_NETWORK_OPTIONS, ...TALOS_CAP_OPTIONS] as const;

/** The network flags' values, as every talos table has them. */
export type NetworkOptions = SettingsOf<typeof TALOS_NETWORK_OPTIONS>;
/** The caps' values. */
export type CapOptions = SettingsOf<typeof TALOS_CAP_OPTIONS>;

/** One talos command line, parsed by its table: typed values (defaults filled), which were given, --help. */
export interface TalosArgs<T extends readonly SettingSpec[]> {
  options: SettingsOf<T>;
  given: ReadonlySet<string>;
  help: boolean;
}

const indexes = new WeakMap<readonly SettingSpec[], FlagIndex>();

/** Parses `argv` (no positionals) with one of the tables above; bad input is a TalosInputError (exit 2). */
export function parseTalosArgs<T extends readonly SettingSpec[]>(table: T, argv: readonly string[]): TalosArgs<T> {
  let index = indexes.get(table);
  if (!index) indexes.set(table, (index = new FlagIndex(table)));
  let values: ReadonlyMap<string, SettingValue>;
  let help: boolean;
  try {
    const p = parseArgv(index, argv, { positionals: false, ...STRICT });
    values = p.values;
    help = p.actions.has('help');
  } catch (err) {
    if (err instanceof SettingError) throw new TalosInputError(err.message);
    throw err;
  }
  return { options: resolve(table, values), given: new Set(values.keys()), help };
}
