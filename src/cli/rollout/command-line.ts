// The rollout's command-line values, checked and defaulted, and the exact command that resumes a
// rollout (printed on failure and on Ctrl-C).
import os from 'node:os';
import path from 'node:path';
import { type Order, parseDuration, parseNodeMap } from '../../host/rollout/index.js';
import { UsageError } from '../args.js';
import type { VerbContext } from '../verbs/types.js';

/** The rollout options, checked and defaulted. */
export interface RolloutArgs {
  targets: string[];
  kubeconfig: string;
  /** --context: this kubeconfig context instead of the current one. */
  context?: string;
  nodeMap: Map<string, string>;
  order: Order;
  maxUnavailable: number;
  nodeTimeoutMs: number;
  settleTimeoutMs: number;
  ignoreCordoned: boolean;
  dryRun: boolean;
  resume: boolean;
  /** --state as given (absolute), or undefined for the default of the cluster. */
  state?: string;
}

/** Default --node-timeout: a VM's reboot is 1-3 min, a Talos upgrade's ~5, a Proxmox drain up to 9m30s. */
export const DEFAULT_NODE_TIMEOUT = '15m';
/** Default --settle-timeout: pods restarting elsewhere and a DaemonSet pod on the rebooted node, image pulls included. */
export const DEFAULT_SETTLE_TIMEOUT = '5m';

function duration(v: unknown, name: string, dflt: string): number {
  const text = typeof v === 'string' ? v : dflt;
  const ms = parseDuration(text);
  if (ms === undefined || ms < 1000 || ms > 24 * 3_600_000)
    throw new UsageError(`--${name} must be a duration between 1s and 24h (like 90s, 15m, 1h30m), not "${text}"`);
  return ms;
}

/** Reads and checks the options (UsageError for bad ones). */
export function rolloutArgs(ctx: VerbContext, targets: string[]): RolloutArgs {
  const v = ctx.values;
  const mu = v['max-unavailable'] === undefined ? '1' : String(v['max-unavailable']);
  if (!/^[1-9]\d{0,5}$/.test(mu)) throw new UsageError('--max-unavailable must be a whole number of nodes, at least 1');
  const home = ctx.env.HOME || os.homedir();
  return {
    targets,
    kubeconfig: (v.kubeconfig as string | undefined) || ctx.env.KUBECONFIG || path.join(home, '.kube', 'config'),
    ...(typeof v.context === 'string' ? { context: v.context } : {}),
    nodeMap: parseNodeMap((v['node-map'] as string[] | undefined) ?? []),
    order: ((v.order as string | undefined) ?? 'workers-first') as Order,
    maxUnavailable: Number(mu),
    nodeTimeoutMs: duration(v['node-timeout'], 'node-timeout', DEFAULT_NODE_TIMEOUT),
    settleTimeoutMs: duration(v['settle-timeout'], 'settle-timeout', DEFAULT_SETTLE_TIMEOUT),
    ignoreCordoned: v['ignore-cordoned'] === true,
    dryRun: v['dry-run'] === true,
    resume: v.resume === true,
    ...(typeof v.state === 'string' ? { state: path.resolve(v.state) } : {}),
  };
}

/** A word as a POSIX shell reads it back unchanged. */
export function shellQuote(s: string): string {
  return /^[A-Za-z0-9_\-+=/:.,@%]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`;
}

/** `guestlink rollout reboot ... --resume` with every setting that shapes the run spelled out. */
export function resumeCommand(ctx: VerbContext, a: RolloutArgs, statePath: string, targets: readonly string[]): string {
  const v = ctx.values;
  const words = ['guestlink', 'rollout', 'reboot', ...targets, '--kubeconfig', a.kubeconfig];
  if (a.context !== undefined) words.push('--context', a.context);
  for (const [vm, node] of a.nodeMap) words.push('--node-map', `${vm}=${node}`);
  if (a.ignoreCordoned) words.push('--ignore-cordoned');
  for (const k of ['node-timeout', 'settle-timeout', 'connect', 'pve-url', 'ca', 'timeout', 'output'] as const)
    if (typeof v[k] === 'string') words.push(`--${k}`, v[k] as string);
  if (v.insecure === true) words.push('--insecure');
  words.push('--state', statePath, '--resume');
  return words.map(shellQuote).join(' ');
}
