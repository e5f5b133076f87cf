// Reads flags, environment and config file once into one frozen, validated object.
// Precedence: defaults < config file (-c, GUESTLINK_CONFIG, QGA_CONF, or /etc/qemu/qemu-ga.conf when
// present) < GUESTLINK_* < flags.
import { existsSync, readFileSync } from 'node:fs';
import { neverAllowedEnv } from '../commands/exec-env.js';
import { COMMAND_NAMES } from '../protocol/qga/commands.js';
import {
  camel,
  FlagIndex,
  helpLines,
  type Layer,
  parseArgv as parseWith,
  readEnv,
  readMapping,
  resolve,
  SettingError,
  type SettingSpec,
  type SettingsOf,
  type SettingValue,
} from '../settings/index.js';
import { formatKeyFile, parseKeyFile } from './keyfile.js';
import { AGENT_ACTIONS, envName, LISTEN_RE, SETTINGS } from './settings.js';

const DEFAULT_PATHS: Record<string, string> = {
  'virtio-serial': '/dev/virtio-ports/org.qemu.guest_agent.0',
  'isa-serial': '/dev/ttyS0',
  'unix-listen': '/var/run/guestlink.sock',
  'vsock-listen': '-1:1234',
};
export const DEFAULT_CONFIG_FILE = '/etc/qemu/qemu-ga.conf';

/**
 * The agent's configuration: every setting of the table (typed by it), the path's default filled in
 * from the method, and Kubernetes' own variables, read here so nothing else reads process.env.
 */
export type AgentConfig = SettingsOf<typeof SETTINGS> & {
  readonly path: string;
  /** kubectl's KUBECONFIG. */
  readonly kubeconfigEnv?: string;
  /** NODE_NAME from the downward API; unchecked: CI systems (Jenkins) set it to names of their own. */
  readonly nodeNameEnv?: string;
  /** The API address the kubelet gives every pod. */
  readonly kubernetesServiceHost?: string;
  readonly kubernetesServicePort?: string;
  readonly configFile?: string;
};

/** What the command line asks for besides serving. */
export type Action = 'serve' | 'help' | 'version' | 'dump-conf' | 'list-rpcs';

export class ConfigError extends Error {
  readonly code = 'CONFIG';
}

const FLAGS = new FlagIndex([...SETTINGS, ...AGENT_ACTIONS]);

/** Runs `fn`, turning the settings engine's errors into ConfigErrors (same message). */
function asConfigError<T>(fn: () => T): T {
  try {
    return fn();
  } catch (err) {
    if (err instanceof SettingError) throw new ConfigError(err.message);
    throw err;
  }
}

/** Parses qemu-ga-style arguments (short clusters, -F's optional glued value, --no-NAME). */
export function parseArgv(argv: readonly string[]): { values: Layer; action: Action; configFile?: string } {
  const parsed = asConfigError(() => parseWith(FLAGS, argv, { positionals: false }));
  let action: Action = 'serve';
  for (const key of ['block-rpcs', 'allow-rpcs'])
    if ((parsed.values.get(key) as string[] | undefined)?.includes('help')) action = 'list-rpcs';
  for (const a of ['dump-conf', 'version', 'help'] as const) if (parsed.actions.has(a)) action = a;
  const config = parsed.actions.get('config');
  return typeof config === 'string' ? { values: parsed.values, action, configFile: config } : { values: parsed.values, action };
}

/** Reads a key-file config: [general] (qemu-ga's keys; others there are qemu-ga's and ignored) and [guestlink] (unknown keys refused). */
export function readConfigFile(text: string, source: string): Layer {
  return asConfigError(() => {
    let groups: ReturnType<typeof parseKeyFile>;
    try {
      groups = parseKeyFile(text, source);
    } catch (err) {
      throw new ConfigError((err as Error).message);
    }
    const out = new Map<string, SettingValue>();
    for (const group of ['general', 'guestlink'] as const) {
      const kv = groups.get(group);
      if (!kv) continue;
      const layer = readMapping(SETTINGS, kv, {
        source: `${source} [${group}]`,
        group,
        unknown: group === 'general' ? 'ignore' : 'refuse',
      });
      for (const [k, v] of layer) out.set(k, v);
    }
    return out;
  });
}

export interface LoadedConfig {
  config: AgentConfig;
  action: Action;
  warnings: string[];
}

/** The one place the agent's configuration is read. Precedence: defaults < config file < GUESTLINK_* < flags. */
export function loadConfig(
  argv: readonly string[],
  env: Readonly<Record<string, string | undefined>>,
  readFile: (p: string) => string = (p) => readFileSync(p, 'utf8'),
  fileExists: (p: string) => boolean = existsSync,
): LoadedConfig {
  const { values: fromArgs, action, configFile: argConfig } = parseArgv(argv);
  // QGA_CONF is qemu-ga's own variable for the config file path.
  const configFile =
    argConfig ?? env.GUESTLINK_CONFIG ?? env.QGA_CONF ?? (fileExists(DEFAULT_CONFIG_FILE) ? DEFAULT_CONFIG_FILE : undefined);
  let fromFile: Layer = new Map();
  if (configFile !== undefined) {
    let text: string;
    try {
      text = readFile(configFile);
    } catch (err) {
      throw new ConfigError(`cannot read config file ${configFile}: ${(err as Error).message}`);
    }
    fromFile = readConfigFile(text, configFile);
  }
  const fromEnv = asConfigError(() => readEnv(SETTINGS, env, { prefix: 'GUESTLINK' }));
  const settings = resolve(SETTINGS, fromFile, fromEnv, fromArgs);
  const config: AgentConfig = Object.freeze({
    ...settings,
    path: settings.path ?? DEFAULT_PATHS[settings.method] ?? '',
    ...(configFile !== undefined ? { configFile } : {}),
    ...(env.KUBECONFIG ? { kubeconfigEnv: env.KUBECONFIG } : {}),
    ...(env.NODE_NAME ? { nodeNameEnv: env.NODE_NAME } : {}),
    ...(env.KUBERNETES_SERVICE_HOST ? { kubernetesServiceHost: env.KUBERNETES_SERVICE_HOST } : {}),
    ...(env.KUBERNETES_SERVICE_PORT ? { kubernetesServicePort: env.KUBERNETES_SERVICE_PORT } : {}),
  });
  // Node cannot open AF_VSOCK sockets, and no maintained package does it: this needs the native addon.
  if (config.method === 'vsock-listen')
    throw new ConfigError('method vsock-listen is not supported yet (Node has no AF_VSOCK sockets); use virtio-serial or isa-serial');
  const warnings: string[] = [];
  checkEndpoint(config, warnings);
  const known = new Set<string>(COMMAND_NAMES);
  for (const name of [...config.blockRpcs, ...config.allowRpcs]) {
    if (name !== 'help' && !known.has(name)) warnings.push(`unknown command "${name}" in block-rpcs/allow-rpcs is ignored`);
  }
  if (config.allowExec.includes('*')) warnings.push('allow-exec contains "*": guest-exec may run any program');
  for (const name of config.allowExecEnv.filter(neverAllowedEnv))
    warnings.push(`allow-exec-env: ${name} changes how programs load code or run; it is never allowed and is ignored`);
  if (config.daemon) warnings.push('daemonize (-d) is not supported: guestlink stays in the foreground');
  if (config.etcdSnapshotDir === undefined && (config.etcdSnapshotOnDemand || config.etcdSnapshotRequired))
    warnings.push('etcd-snapshot-on-demand and etcd-snapshot-required do nothing without etcd-snapshot-dir');
  return { config, action, warnings };
}

/** The management endpoint's settings that only make sense together (docs/identity.md). */
function checkEndpoint(o: AgentConfig, warnings: string[]): void {
  // Port 0 takes any free port (logged): for tests.
  const port = Number(LISTEN_RE.exec(o.listen ?? '')?.[2] ?? 0);
  if (port > 65535) throw new ConfigError(`listen: port ${port} is not between 0 and 65535`);
  if ((o.tlsCert === undefined) !== (o.tlsKey === undefined)) throw new ConfigError('--tls-cert and --tls-key go together');
  if (o.identity === 'files' && !o.tlsCert) throw new ConfigError('--identity files needs --tls-cert and --tls-key');
  if (o.listen && o.identity === 'off') throw new ConfigError('--listen needs a serving certificate: --identity auto, csr or files');
  if (!o.listen && (o.listenTokens || o.tlsCert || o.identity === 'csr' || o.identity === 'files'))
    warnings.push('the management endpoint settings have no effect without --listen tls://ADDR:PORT');
}

/** --dump-conf: the effective configuration as a key file that -c reads back. */
export function dumpConfig(config: AgentConfig): string {
  const groups: [string, [string, string][]][] = [
    ['general', []],
    ['guestlink', []],
  ];
  for (const spec of SETTINGS as readonly SettingSpec[]) {
    const value = (config as unknown as Record<string, unknown>)[camel(spec.key)];
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
    ...helpLines(AGENT_ACTIONS),
    ...helpLines(SETTINGS),
    '',
    `Every setting can also be given as ${envName('setting-name')} or in the config file.`,
    'Boolean flags take --no-NAME to turn them off.',
  ];
  return `${lines.join('\n')}\n`;
}
