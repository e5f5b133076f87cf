// Every option of the host CLI in one table of the settings engine (src/settings/): the parser, the
// per-verb check, --help, shell completion and the option table of docs/cli.md all derive from it.
// `verbs` is the engine's scope: the verbs an option applies to (absent: every verb); an option given
// to a verb it does not apply to is refused, not ignored.
import { checkScope, FlagIndex, parseArgv, resolve, SettingError, type SettingSpec, type SettingsOf } from '../settings/index.js';
import { UsageError } from './args.js';
import { OUTPUT_FORMATS } from './output.js';
import { ROLLOUT_OPTIONS } from './rollout/options.js';

/** The per-VM verbs that run over a fleet (several VMs or a pattern). */
export const FLEET_VERBS = [
  'ping',
  'info',
  'osinfo',
  'ips',
  'fsinfo',
  'time',
  'exec',
  'call',
  'shutdown',
  'reboot',
  'etcd-snapshot',
] as const;

const UNITS: Readonly<Record<string, number>> = { '': 1, k: 1024, ki: 1024, m: 1 << 20, mi: 1 << 20, g: 1 << 30, gi: 1 << 30 };

/** A byte count: an integer with an optional binary unit (64K, 1MiB, 2G); NaN when it is none. */
function bytesIn(text: string): number {
  const m = /^(\d+)\s*([kmg]i?)?b?$/i.exec(text.trim());
  const n = m ? Number(m[1]) * (UNITS[(m[2] ?? '').toLowerCase()] ?? Number.NaN) : Number.NaN;
  return Number.isSafeInteger(n) && n > 0 ? n : Number.NaN;
}

/** The number of bytes of a --max-bytes value (checked by the table when parsed); undefined when not given. */
export function byteCount(v: string | undefined): number | undefined {
  return v === undefined ? undefined : bytesIn(v);
}

const positiveSeconds = (v: unknown) => ((v as number) > 0 ? undefined : 'must be a positive number of seconds');

/** Every option of the CLI's verbs (rollout's included): the one table the parser, help, completion and docs read. */
export const CLI_OPTIONS = [
  { key: 'output', short: 'o', type: 'string', choices: OUTPUT_FORMATS, default: 'table', arg: 'FORMAT', help: 'output format' },
  {
    key: 'timeout',
    type: 'number',
    default: 5,
    check: positiveSeconds,
    arg: 'SECONDS',
    help: 'reply timeout per agent request',
  },
  { key: 'connect', short: 'c', type: 'string', arg: 'URI', help: 'libvirt connection URI for libvirt: addresses (like virsh -c)' },
  {
    key: 'pve-url',
    type: 'string',
    arg: 'URL',
    help: 'Proxmox VE API, https://HOST:8006 (default PVE_URL); the token comes from PVE_TOKEN',
  },
  {
    key: 'ca',
    type: 'string',
    arg: 'FILE',
    completeFiles: true,
    help: "PEM CA certificate(s) to trust for --pve-url (default: the system store) and for tls:// and node:// (default: the kubeconfig's cluster CA)",
  },
  {
    key: 'kubeconfig',
    type: 'string',
    arg: 'PATH',
    completeFiles: true,
    help: 'kubeconfig for tls:// and node:// addresses (client certificate, CA, API server) and for rollout (the cluster); default KUBECONFIG, else ~/.kube/config',
  },
  {
    key: 'context',
    type: 'string',
    arg: 'NAME',
    help: "kubeconfig context for tls://, node:// and rollout (default: the kubeconfig's current one)",
  },
  { key: 'insecure', type: 'bool', help: 'do not verify the Proxmox VE TLS certificate (lab use only)' },
  {
    key: 'concurrency',
    short: 'j',
    type: 'int',
    min: 1,
    default: 10,
    arg: 'N',
    verbs: FLEET_VERBS,
    help: 'fleet mode: VMs handled at once',
  },
  { key: 'quiet', short: 'q', type: 'bool', help: 'no progress line or indicator' },
  {
    key: 'arg',
    short: 'a',
    type: 'list',
    split: 'none',
    arg: 'KEY=VALUE',
    verbs: ['call'],
    help: 'a command argument, typed by the command table',
  },
  { key: 'json', type: 'string', arg: 'JSON', verbs: ['call'], help: 'the arguments as a JSON object (--arg entries are added)' },
  { key: 'stdin', short: 'i', type: 'bool', verbs: ['exec'], help: "pass this process's stdin to the program" },
  {
    key: 'env',
    short: 'e',
    type: 'list',
    split: 'none',
    arg: 'NAME=VALUE',
    verbs: ['exec'],
    help: "the program's environment (replaces the agent's)",
  },
  {
    key: 'verify',
    type: 'string',
    choices: ['auto', 'none'],
    default: 'auto',
    arg: 'MODE',
    verbs: ['cp'],
    help: "auto: the guest's sha256sum, else size or read-back; none: no check",
  },
  {
    key: 'path',
    type: 'list',
    split: 'none',
    arg: 'PATH',
    verbs: ['kubeconfig'],
    help: 'kubeconfig path in the guest (default: KubeSolo, k3s, kubeadm, RKE2, k0s paths)',
  },
  {
    key: 'api-server',
    type: 'string',
    arg: 'URL|HOST',
    verbs: ['kubeconfig'],
    help: "server to write into the kubeconfig (default: the VM's IP, for loopback servers)",
  },
  { key: 'wait', type: 'bool', verbs: ['kubeconfig'], help: 'wait until the kubeconfig exists' },
  {
    key: 'wait-timeout',
    type: 'number',
    default: 600,
    check: positiveSeconds,
    arg: 'SECONDS',
    verbs: ['kubeconfig'],
    help: 'with --wait: give up after this long',
  },
  {
    key: 'file',
    short: 'f',
    type: 'string',
    arg: 'FILE',
    completeFiles: true,
    verbs: ['kubeconfig', 'etcd-snapshot'],
    help: 'kubeconfig: write it here (mode 0600) instead of stdout; etcd-snapshot: the file, or the directory (default .)',
  },
  { key: 'merge', type: 'bool', verbs: ['kubeconfig'], help: 'merge into --file (default $KUBECONFIG or ~/.kube/config)' },
  {
    key: 'name',
    type: 'string',
    arg: 'NAME',
    verbs: ['kubeconfig'],
    help: 'rename cluster, user and context (default with --merge: the VM name)',
  },
  { key: 'set-current', type: 'bool', verbs: ['kubeconfig'], help: 'with --merge: make it the current context (never done otherwise)' },
  {
    key: 'allow-insecure',
    type: 'bool',
    verbs: ['kubeconfig'],
    help: 'with --merge: accept a cluster with insecure-skip-tls-verify (refused otherwise; always warned about)',
  },
  {
    key: 'max-bytes',
    type: 'string',
    check: (v: unknown) => (Number.isNaN(bytesIn(String(v))) ? 'must be a positive number of bytes (e.g. 1048576, 4MiB, 2G)' : undefined),
    arg: 'BYTES',
    verbs: ['kubeconfig', 'cp'],
    help: 'kubeconfig: the largest file read (default 1MiB); cp: the largest download (default: the size the guest reports + 64KiB, 1GiB when it reports none)',
  },
  {
    key: 'mode',
    type: 'string',
    choices: ['powerdown', 'halt'],
    default: 'powerdown',
    arg: 'MODE',
    verbs: ['shutdown'],
    help: 'how the guest shuts down',
  },
  ...ROLLOUT_OPTIONS,
  { key: 'help', short: 'h', type: 'bool', action: 'help', help: 'show help' },
  { key: 'version', type: 'bool', action: 'version', help: 'show the version' },
] as const satisfies readonly SettingSpec[];

/** The CLI's options, typed by the table, defaults filled in. */
export type CliOptions = SettingsOf<typeof CLI_OPTIONS>;

const INDEX = new FlagIndex(CLI_OPTIONS);

/**
 * How strict the CLI's parser is: an option given twice and a value that looks like an option
 * (--file -q) are refused, not taken (what node:util parseArgs did for the latter).
 */
export const STRICT = { refuseRepeats: true, refuseDashValues: true } as const;

/** A parsed command line: typed options, what was given, and the positionals. */
export interface Parsed {
  options: CliOptions;
  /** The keys of the options given on the command line (a default is not "given"). */
  given: ReadonlySet<string>;
  /** help or version when asked for. */
  actions: ReadonlySet<string>;
  /** Positionals before `--`. */
  positionals: string[];
  /** Everything after `--` (exec's command). */
  rest: string[];
  sawTerminator: boolean;
}

/** Runs `fn`, turning the settings engine's errors into UsageErrors (exit 2, same message). */
function asUsageError<T>(fn: () => T): T {
  try {
    return fn();
  } catch (err) {
    if (err instanceof SettingError) throw new UsageError(err.message);
    throw err;
  }
}

/** Parses the whole command line (options may come before or after the verb and its VMs). */
export function parseCommandLine(argv: readonly string[]): Parsed {
  const p = asUsageError(() => parseArgv(INDEX, argv, STRICT));
  return {
    options: resolve(CLI_OPTIONS, p.values),
    given: new Set(p.values.keys()),
    actions: new Set(p.actions.keys()),
    positionals: p.positionals,
    rest: p.rest,
    sawTerminator: p.sawTerminator,
  };
}

/** Refuses options that do not apply to `verb`. */
export function checkOptionsFor(verb: string, given: Iterable<string>): void {
  asUsageError(() => checkScope(CLI_OPTIONS, given, verb));
}
