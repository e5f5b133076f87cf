// Every CLI option in one table: the parser, the per-verb check, --help and shell completion all
// derive from it, as the agent's settings table drives its flags.
import { parseArgs } from 'node:util';
import { UsageError } from './args.js';
import { OUTPUT_FORMATS } from './output.js';
import { ROLLOUT_OPTIONS } from './rollout/options.js';

export interface OptionSpec {
  name: string;
  type: 'string' | 'boolean';
  short?: string;
  multiple?: boolean;
  /** Verbs it applies to; absent: every verb (a global option). */
  verbs?: readonly string[];
  /** Values for completion and validation. */
  choices?: readonly string[];
  /** What the value is (for help), e.g. SECONDS. */
  arg?: string;
  help: string;
}

const FLEET_VERBS = ['ping', 'info', 'osinfo', 'ips', 'fsinfo', 'time', 'exec', 'call', 'shutdown', 'reboot', 'etcd-snapshot'] as const;

export const OPTIONS: readonly OptionSpec[] = [
  { name: 'output', short: 'o', type: 'string', choices: OUTPUT_FORMATS, arg: 'FORMAT', help: 'output format (default table)' },
  { name: 'timeout', type: 'string', arg: 'SECONDS', help: 'reply timeout per agent request (default 5)' },
  { name: 'connect', short: 'c', type: 'string', arg: 'URI', help: 'libvirt connection URI for libvirt: addresses (like virsh -c)' },
  {
    name: 'pve-url',
    type: 'string',
    arg: 'URL',
    help: 'Proxmox VE API, https://HOST:8006 (default PVE_URL); the token comes from PVE_TOKEN',
  },
  {
    name: 'ca',
    type: 'string',
    arg: 'FILE',
    help: "PEM CA certificate(s) to trust for --pve-url (default: the system store) and for tls:// and node:// (default: the kubeconfig's cluster CA)",
  },
  {
    name: 'kubeconfig',
    type: 'string',
    arg: 'PATH',
    help: 'kubeconfig for tls:// and node:// addresses (client certificate, CA, API server) and for rollout (the cluster); default KUBECONFIG, else ~/.kube/config',
  },
  {
    name: 'context',
    type: 'string',
    arg: 'NAME',
    help: "kubeconfig context for tls://, node:// and rollout (default: the kubeconfig's current one)",
  },
  { name: 'insecure', type: 'boolean', help: 'do not verify the Proxmox VE TLS certificate (lab use only)' },
  { name: 'concurrency', short: 'j', type: 'string', arg: 'N', verbs: FLEET_VERBS, help: 'fleet mode: VMs handled at once (default 10)' },
  { name: 'quiet', short: 'q', type: 'boolean', help: 'no progress line or indicator' },
  {
    name: 'arg',
    short: 'a',
    type: 'string',
    multiple: true,
    arg: 'KEY=VALUE',
    verbs: ['call'],
    help: 'a command argument, typed by the command table',
  },
  { name: 'json', type: 'string', arg: 'JSON', verbs: ['call'], help: 'the arguments as a JSON object (--arg entries are added)' },
  { name: 'stdin', short: 'i', type: 'boolean', verbs: ['exec'], help: "pass this process's stdin to the program" },
  {
    name: 'env',
    short: 'e',
    type: 'string',
    multiple: true,
    arg: 'NAME=VALUE',
    verbs: ['exec'],
    help: "the program's environment (replaces the agent's)",
  },
  {
    name: 'verify',
    type: 'string',
    choices: ['auto', 'none'],
    arg: 'MODE',
    verbs: ['cp'],
    help: "auto: the guest's sha256sum, else size or read-back (default); none",
  },
  {
    name: 'path',
    type: 'string',
    multiple: true,
    arg: 'PATH',
    verbs: ['kubeconfig'],
    help: 'kubeconfig path in the guest (default: KubeSolo, k3s, kubeadm, RKE2, k0s paths)',
  },
  {
    name: 'api-server',
    type: 'string',
    arg: 'URL|HOST',
    verbs: ['kubeconfig'],
    help: "server to write into the kubeconfig (default: the VM's IP, for loopback servers)",
  },
  { name: 'wait', type: 'boolean', verbs: ['kubeconfig'], help: 'wait until the kubeconfig exists' },
  { name: 'wait-timeout', type: 'string', arg: 'SECONDS', verbs: ['kubeconfig'], help: 'give up waiting after this long (default 600)' },
  {
    name: 'file',
    short: 'f',
    type: 'string',
    arg: 'FILE',
    verbs: ['kubeconfig', 'etcd-snapshot'],
    help: 'kubeconfig: write it here (mode 0600) instead of stdout; etcd-snapshot: the file, or the directory (default .)',
  },
  { name: 'merge', type: 'boolean', verbs: ['kubeconfig'], help: 'merge into --file (default $KUBECONFIG or ~/.kube/config)' },
  {
    name: 'name',
    type: 'string',
    arg: 'NAME',
    verbs: ['kubeconfig'],
    help: 'rename cluster, user and context (default with --merge: the VM name)',
  },
  { name: 'set-current', type: 'boolean', verbs: ['kubeconfig'], help: 'with --merge: make it the current context (never done otherwise)' },
  {
    name: 'allow-insecure',
    type: 'boolean',
    verbs: ['kubeconfig'],
    help: 'with --merge: accept a cluster with insecure-skip-tls-verify (refused otherwise; always warned about)',
  },
  {
    name: 'max-bytes',
    type: 'string',
    arg: 'BYTES',
    verbs: ['kubeconfig', 'cp'],
    help: 'kubeconfig: the largest file read (default 1MiB); cp: the largest download (default: the size the guest reports + 64KiB, 1GiB when it reports none)',
  },
  { name: 'mode', type: 'string', choices: ['powerdown', 'halt'], arg: 'MODE', verbs: ['shutdown'], help: 'powerdown (default) or halt' },
  ...ROLLOUT_OPTIONS,
  { name: 'help', short: 'h', type: 'boolean', help: 'show help' },
  { name: 'version', type: 'boolean', help: 'show the version' },
];

export type Values = Record<string, string | boolean | string[] | undefined>;

export interface Parsed {
  values: Values;
  /** Positionals before `--`. */
  positionals: string[];
  /** Everything after `--` (exec's command). */
  rest: string[];
  sawTerminator: boolean;
}

export function parseCommandLine(argv: string[]): Parsed {
  const options = Object.fromEntries(
    OPTIONS.map((o) => [o.name, { type: o.type, ...(o.short ? { short: o.short } : {}), ...(o.multiple ? { multiple: true } : {}) }]),
  );
  let parsed: ReturnType<typeof parseArgs>;
  try {
    parsed = parseArgs({ args: argv, options, allowPositionals: true, strict: true, tokens: true });
  } catch (err) {
    throw new UsageError((err as Error).message.replace(/\. To specify a positional argument.*$/s, ''));
  }
  const term = parsed.tokens?.find((t) => t.kind === 'option-terminator');
  const positionals: string[] = [];
  const rest: string[] = [];
  for (const t of parsed.tokens ?? []) if (t.kind === 'positional') (term && t.index > term.index ? rest : positionals).push(t.value);
  const values = parsed.values as Values;
  for (const o of OPTIONS) {
    const v = values[o.name];
    if (o.choices && typeof v === 'string' && !o.choices.includes(v))
      throw new UsageError(`--${o.name} must be one of ${o.choices.join(', ')}`);
  }
  return { values, positionals, rest, sawTerminator: term !== undefined };
}

/** Rejects options that do not apply to `verb`. */
export function checkOptionsFor(verb: string, values: Values): void {
  for (const o of OPTIONS)
    if (values[o.name] !== undefined && o.verbs && !o.verbs.includes(verb)) throw new UsageError(`--${o.name} does not apply to ${verb}`);
}

const UNITS: Readonly<Record<string, number>> = { '': 1, k: 1024, ki: 1024, m: 1 << 20, mi: 1 << 20, g: 1 << 30, gi: 1 << 30 };

/** A byte count: an integer with an optional binary unit (64K, 1MiB, 2G); undefined when not given. */
export function byteCount(v: unknown, name: string): number | undefined {
  if (v === undefined) return undefined;
  const m = /^(\d+)\s*([kmg]i?)?b?$/i.exec(String(v).trim());
  const n = m ? Number(m[1]) * (UNITS[(m[2] ?? '').toLowerCase()] ?? Number.NaN) : Number.NaN;
  if (!Number.isSafeInteger(n) || n <= 0) throw new UsageError(`--${name} must be a positive number of bytes (e.g. 1048576, 4MiB, 2G)`);
  return n;
}

/** A positive number of seconds as milliseconds. */
export function seconds(v: unknown, name: string, dflt: number): number {
  if (v === undefined) return dflt * 1000;
  const n = Number(v);
  if (!Number.isFinite(n) || n <= 0) throw new UsageError(`--${name} must be a positive number of seconds`);
  return n * 1000;
}
