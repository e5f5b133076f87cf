// Reads flags, environment and config file once into one frozen, validated object.
// Precedence: defaults < config file (-c, GUESTLINK_CONFIG, QGA_CONF, or /etc/qemu/qemu-ga.conf when
// present) < GUESTLINK_* < flags.
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import * as v from 'valibot';
import { parseDuration } from '../kube/duration.js';
import { parseEndpoint } from '../node/linux/etcd-endpoints.js';
import { COMMAND_NAMES } from '../protocol/qga/commands.js';
import { formatKeyFile, parseKeyFile, splitList } from './keyfile.js';
import { camel, envName, SETTINGS, type SettingSpec } from './settings.js';

const DEFAULT_PATHS: Record<string, string> = {
  'virtio-serial': '/dev/virtio-ports/org.qemu.guest_agent.0',
  'isa-serial': '/dev/ttyS0',
  'unix-listen': '/var/run/guestlink.sock',
  'vsock-listen': '-1:1234',
};
export const DEFAULT_CONFIG_FILE = '/etc/qemu/qemu-ga.conf';

const absolute = v.pipe(
  v.string(),
  v.check((s) => path.isAbsolute(s), 'must be an absolute path'),
);

const ConfigSchema = v.object({
  method: v.picklist(['virtio-serial', 'isa-serial', 'unix-listen', 'vsock-listen']),
  path: v.pipe(v.string(), v.minLength(1)),
  logfile: v.optional(v.string()),
  pidfile: v.optional(v.string()),
  fsfreezeHook: v.optional(absolute),
  statedir: absolute,
  verbose: v.boolean(),
  daemon: v.boolean(),
  retryPath: v.boolean(),
  blockRpcs: v.array(v.string()),
  allowRpcs: v.array(v.string()),
  allowExec: v.array(v.union([v.literal('*'), absolute])),
  allowFileRead: v.array(absolute),
  allowFileWrite: v.array(absolute),
  fsfreezeTimeout: v.pipe(v.number(), v.integer(), v.minValue(0)),
  etcdSnapshotDir: v.optional(absolute),
  etcdSnapshotKeep: v.pipe(v.number(), v.integer(), v.minValue(1), v.maxValue(1000)),
  etcdSnapshotTimeout: v.pipe(v.number(), v.integer(), v.minValue(1), v.maxValue(3600)),
  etcdSnapshotRequired: v.boolean(),
  etcdSnapshotMaxBytes: v.pipe(v.number(), v.integer(), v.minValue(1 << 20), v.maxValue(Number.MAX_SAFE_INTEGER)),
  etcdSnapshotOnDemand: v.boolean(),
  // Each URL is checked by the etcd code (https, or http to loopback only) when the agent starts.
  etcdEndpoints: v.array(v.pipe(v.string(), v.minLength(1))),
  etcdCacert: v.optional(absolute),
  etcdCert: v.optional(absolute),
  etcdKey: v.optional(absolute),
  hideVirtualInterfaces: v.boolean(),
  hideInterfacesWithoutAddresses: v.boolean(),
  nodeBackend: v.picklist(['auto', 'talos', 'linux']),
  talosSocket: absolute,
  talosconfig: v.optional(absolute),
  talosEndpoint: v.optional(v.pipe(v.string(), v.minLength(1))),
  talosNode: v.optional(v.pipe(v.string(), v.minLength(1))),
  talosRole: v.pipe(v.string(), v.regex(/^os:[a-z:]+$/, 'must be a Talos role such as os:operator')),
  talosRebootMode: v.picklist(['default', 'powercycle']),
  // Bounded so a hypervisor (libvirt waits 5 s by default, Proxmox pings with 3 s) gets an answer.
  talosTimeout: v.pipe(v.number(), v.integer(), v.minValue(1), v.maxValue(120)),
  power: v.picklist(['auto', 'dry-run', 'logind', 'openrc', 'shutdown-command', 'syscall']),
  maxRequestBytes: v.pipe(v.number(), v.integer(), v.minValue(1024), v.maxValue(64 << 20)),
  kube: v.picklist(['auto', 'off', 'in-cluster', 'kubeconfig']),
  kubeconfig: v.optional(v.pipe(v.string(), v.minLength(1))),
  nodeName: v.optional(
    v.pipe(v.string(), v.regex(/^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/, 'must be a Kubernetes node name (lower-case DNS subdomain)')),
  ),
  drain: v.picklist(['auto', 'always', 'never']),
  // Kept as written (dump-conf prints it back); 1 s to 1 h: past an hour no hypervisor still waits.
  drainTimeout: v.pipe(
    v.string(),
    v.check((s) => {
      const ms = parseDuration(s);
      return ms !== undefined && ms >= 1000 && ms <= 3_600_000;
    }, 'must be a duration from 1s to 1h, like 50s or 9m30s'),
  ),
  drainOnTimeout: v.picklist(['proceed', 'abort']),
  vmware: v.picklist(['auto', 'off', 'vsock', 'backdoor']),
  // Not settings: Kubernetes' own variables (kubectl's KUBECONFIG, NODE_NAME from the downward API,
  // the API address the kubelet gives every pod), read here so nothing else reads process.env.
  kubeconfigEnv: v.optional(v.string()),
  // Unchecked: CI systems (Jenkins) set NODE_NAME to names of their own, which must not stop the agent.
  nodeNameEnv: v.optional(v.string()),
  kubernetesServiceHost: v.optional(v.string()),
  kubernetesServicePort: v.optional(v.string()),
  configFile: v.optional(v.string()),
});

export type AgentConfig = Readonly<v.InferOutput<typeof ConfigSchema>>;

/** What the command line asks for besides serving. */
export type Action = 'serve' | 'help' | 'version' | 'dump-conf' | 'list-rpcs';

export class ConfigError extends Error {
  readonly code = 'CONFIG';
}

type Raw = Record<string, unknown>;

function convert(spec: SettingSpec, value: string, from: string): unknown {
  switch (spec.type) {
    case 'string':
      return value;
    case 'list':
      return splitList(value);
    case 'bool':
      if (/^(true|1|yes|on)$/i.test(value)) return true;
      if (/^(false|0|no|off)$/i.test(value)) return false;
      throw new ConfigError(`${from}: "${value}" is not a boolean (true or false)`);
    case 'int': {
      if (!/^-?\d+$/.test(value)) throw new ConfigError(`${from}: "${value}" is not an integer`);
      return Number(value);
    }
  }
}

const byKey = new Map<string, SettingSpec>(SETTINGS.map((s) => [s.key, s]));
const byShort = new Map<string, SettingSpec>(SETTINGS.filter((s) => 'short' in s).map((s) => [(s as SettingSpec).short as string, s]));

/** Parses qemu-ga-style arguments. Hand-written: -F takes an optional glued value, which parseArgs cannot express. */
export function parseArgv(argv: readonly string[]): { raw: Raw; action: Action; configFile?: string } {
  const raw: Raw = {};
  let action: Action = 'serve';
  let configFile: string | undefined;
  const set = (spec: SettingSpec, value: string | undefined, flag: string) => {
    if (value === undefined) throw new ConfigError(`option ${flag} needs a value`);
    if ((spec.key === 'block-rpcs' || spec.key === 'allow-rpcs') && value === 'help') action = 'list-rpcs';
    raw[spec.key] = convert(spec, value, flag);
  };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] as string;
    if (arg.startsWith('--')) {
      const eq = arg.indexOf('=');
      const name = eq > 0 ? arg.slice(2, eq) : arg.slice(2);
      const inline = eq > 0 ? arg.slice(eq + 1) : undefined;
      if (name === 'help') action = 'help';
      else if (name === 'version') action = 'version';
      else if (name === 'dump-conf') action = 'dump-conf';
      else if (name === 'config') configFile = inline ?? argv[++i];
      else {
        const negated = name.startsWith('no-') && byKey.get(name.slice(3))?.type === 'bool';
        const spec = byKey.get(negated ? name.slice(3) : name);
        if (!spec) throw new ConfigError(`unknown option --${name}`);
        if (spec.type === 'bool') raw[spec.key] = negated ? false : inline === undefined ? true : convert(spec, inline, `--${name}`);
        else if (spec.optionalValue !== undefined) raw[spec.key] = inline ?? spec.optionalValue;
        else set(spec, inline ?? argv[++i], `--${name}`);
      }
      continue;
    }
    if (!arg.startsWith('-') || arg === '-') throw new ConfigError(`unexpected argument "${arg}"`);
    // A cluster of short options: -vr, -mvirtio-serial, -m virtio-serial, -F/path.
    for (let j = 1; j < arg.length; j++) {
      const ch = arg[j] as string;
      const rest = arg.slice(j + 1);
      if (ch === 'h') action = 'help';
      else if (ch === 'V') action = 'version';
      else if (ch === 'D') action = 'dump-conf';
      else if (ch === 'c') {
        configFile = rest !== '' ? rest : argv[++i];
        break;
      } else {
        const spec = byShort.get(ch);
        if (!spec) throw new ConfigError(`unknown option -${ch}`);
        if (spec.type === 'bool') {
          raw[spec.key] = true;
          continue;
        }
        if (spec.optionalValue !== undefined) raw[spec.key] = rest !== '' ? rest : spec.optionalValue;
        else set(spec, rest !== '' ? rest : argv[++i], `-${ch}`);
        break;
      }
    }
  }
  return configFile === undefined ? { raw, action } : { raw, action, configFile };
}

/** Reads a key-file config: [general] (qemu-ga's keys) and [guestlink]. Unknown keys are errors in [guestlink] only. */
export function readConfigFile(text: string, source: string): Raw {
  const raw: Raw = {};
  const groups = parseKeyFile(text, source);
  for (const [group, kv] of groups) {
    if (group !== 'general' && group !== 'guestlink') continue;
    for (const [key, value] of kv) {
      // qemu-ga <= 7.2 called block-rpcs "blacklist".
      const spec = byKey.get(key === 'blacklist' ? 'block-rpcs' : key);
      if (!spec) {
        if (group === 'guestlink') throw new ConfigError(`${source}: unknown key "${key}" in [guestlink]`);
        continue;
      }
      raw[spec.key] = convert(spec, value, `${source} [${group}] ${key}`);
    }
  }
  return raw;
}

function readEnv(env: Readonly<Record<string, string | undefined>>): Raw {
  const raw: Raw = {};
  for (const spec of SETTINGS as readonly SettingSpec[]) {
    const value = env[envName(spec.key)];
    if (value !== undefined) raw[spec.key] = convert(spec, value, envName(spec.key));
  }
  return raw;
}

export interface LoadedConfig {
  config: AgentConfig;
  action: Action;
  warnings: string[];
}

/** The one place the agent's configuration is read. */
export function loadConfig(
  argv: readonly string[],
  env: Readonly<Record<string, string | undefined>>,
  readFile: (p: string) => string = (p) => readFileSync(p, 'utf8'),
  fileExists: (p: string) => boolean = existsSync,
): LoadedConfig {
  const { raw: fromArgs, action, configFile: argConfig } = parseArgv(argv);
  // QGA_CONF is qemu-ga's own variable for the config file path.
  const configFile =
    argConfig ?? env.GUESTLINK_CONFIG ?? env.QGA_CONF ?? (fileExists(DEFAULT_CONFIG_FILE) ? DEFAULT_CONFIG_FILE : undefined);
  let fromFile: Raw = {};
  if (configFile !== undefined) {
    let text: string;
    try {
      text = readFile(configFile);
    } catch (err) {
      throw new ConfigError(`cannot read config file ${configFile}: ${(err as Error).message}`);
    }
    fromFile = readConfigFile(text, configFile);
  }
  const merged: Raw = {};
  for (const spec of SETTINGS as readonly SettingSpec[]) if (spec.default !== undefined) merged[spec.key] = spec.default;
  Object.assign(merged, fromFile, readEnv(env), fromArgs);
  const method = String(merged.method);
  if (merged.path === undefined) merged.path = DEFAULT_PATHS[method] ?? '';
  const obj: Raw = {};
  for (const [k, val] of Object.entries(merged)) obj[camel(k)] = val;
  if (configFile !== undefined) obj.configFile = configFile;
  if (env.KUBECONFIG) obj.kubeconfigEnv = env.KUBECONFIG;
  if (env.NODE_NAME) obj.nodeNameEnv = env.NODE_NAME;
  if (env.KUBERNETES_SERVICE_HOST) obj.kubernetesServiceHost = env.KUBERNETES_SERVICE_HOST;
  if (env.KUBERNETES_SERVICE_PORT) obj.kubernetesServicePort = env.KUBERNETES_SERVICE_PORT;
  const result = v.safeParse(ConfigSchema, obj);
  if (!result.success) {
    const msgs = result.issues.map((i) => {
      const where = v.getDotPath(i) ?? '';
      return `${where.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}: ${i.message}`;
    });
    throw new ConfigError(`invalid configuration: ${msgs.join('; ')}`);
  }
  // Node cannot open AF_VSOCK sockets, and no maintained package does it: this needs the native addon.
  if (result.output.method === 'vsock-listen')
    throw new ConfigError('method vsock-listen is not supported yet (Node has no AF_VSOCK sockets); use virtio-serial or isa-serial');
  // etcd's traffic is every Secret of the cluster: plain http only to loopback, refused here at once.
  for (const url of result.output.etcdEndpoints) {
    try {
      parseEndpoint(url);
    } catch (err) {
      throw new ConfigError(`invalid configuration: etcd-endpoints: ${(err as Error).message}`);
    }
  }
  const warnings: string[] = [];
  const known = new Set<string>(COMMAND_NAMES);
  for (const name of [...result.output.blockRpcs, ...result.output.allowRpcs]) {
    if (name !== 'help' && !known.has(name)) warnings.push(`unknown command "${name}" in block-rpcs/allow-rpcs is ignored`);
  }
  if (result.output.allowExec.includes('*')) warnings.push('allow-exec contains "*": guest-exec may run any program');
  if (result.output.daemon) warnings.push('daemonize (-d) is not supported: guestlink stays in the foreground');
  if (result.output.etcdSnapshotDir === undefined && (result.output.etcdSnapshotOnDemand || result.output.etcdSnapshotRequired))
    warnings.push('etcd-snapshot-on-demand and etcd-snapshot-required do nothing without etcd-snapshot-dir');
  return { config: Object.freeze(result.output), action, warnings };
}

/** --dump-conf: the effective configuration as a key file that -c reads back. */
export function dumpConfig(config: AgentConfig): string {
  const groups: [string, [string, string][]][] = [
    ['general', []],
    ['guestlink', []],
  ];
  for (const spec of SETTINGS as readonly SettingSpec[]) {
    const value = (config as Record<string, unknown>)[camel(spec.key)];
    if (value === undefined) continue;
    const text = Array.isArray(value) ? value.join(';') : String(value);
    if (Array.isArray(value) && value.length === 0 && spec.group === 'general') continue;
    (groups[spec.group === 'general' ? 0 : 1] as [string, [string, string][]])[1].push([spec.key, text]);
  }
  return formatKeyFile(groups);
}

/** --help text, generated from the settings table. */
export function helpText(program: string): string {
  const lines = [
    `Usage: ${program} [-m <method> -p <path>] [<options>]`,
    'guestlink guest agent: speaks the QEMU Guest Agent protocol (Proxmox VE, libvirt, QEMU).',
    '',
    '  -c, --config PATH      read a qemu-ga style key file ([general] and [guestlink] groups)',
    '  -D, --dump-conf        print the effective configuration as a key file and exit',
    '  -V, --version          print the version and exit',
    '  -h, --help             this text',
  ];
  for (const s of SETTINGS as readonly SettingSpec[]) {
    const flag = `${s.short ? `-${s.short}, ` : '    '}--${s.key}${s.type === 'bool' ? '' : s.optionalValue ? '[=PATH]' : ' VALUE'}`;
    const def = s.default !== undefined && !(Array.isArray(s.default) && s.default.length === 0) ? ` (default: ${String(s.default)})` : '';
    const choices = s.choices ? ` [${s.choices.join('|')}]` : '';
    lines.push(`  ${flag.padEnd(44)} ${s.help}${choices}${def}`);
  }
  lines.push(
    '',
    `Every setting can also be given as ${envName('setting-name')} or in the config file.`,
    'Boolean flags take --no-NAME to turn them off.',
  );
  return `${lines.join('\n')}\n`;
}
