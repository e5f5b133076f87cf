// The rollout's command-line values, checked and defaulted, and the exact command that resumes a
// rollout (printed on failure and on Ctrl-C).
import os from 'node:os';
import path from 'node:path';
import { type Order, parseDuration, parseNodeMap } from '../../host/rollout/index.js';
import { camel } from '../../settings/index.js';
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

/** A duration option's milliseconds (its default from the option table, src/cli/rollout/options.ts). */
function duration(text: string, name: string): number {
  const ms = parseDuration(text);
  if (ms === undefined || ms < 1000 || ms > 24 * 3_600_000)
    throw new UsageError(`--${name} must be a duration between 1s and 24h (like 90s, 15m, 1h30m), not "${text}"`);
  return ms;
}

/** Reads and checks the options (UsageError for bad ones). */
export function rolloutArgs(ctx: VerbContext, targets: string[]): RolloutArgs {
  const o = ctx.options;
  const home = ctx.env.HOME || os.homedir();
  return {
    targets,
    kubeconfig: o.kubeconfig || ctx.env.KUBECONFIG || path.join(home, '.kube', 'config'),
    ...(o.context !== undefined ? { context: o.context } : {}),
    nodeMap: parseNodeMap(o.nodeMap),
    order: o.order,
    maxUnavailable: o.maxUnavailable,
    nodeTimeoutMs: duration(o.nodeTimeout, 'node-timeout'),
    settleTimeoutMs: duration(o.settleTimeout, 'settle-timeout'),
    ignoreCordoned: o.ignoreCordoned,
    dryRun: o.dryRun,
    resume: o.resume,
    ...(o.state !== undefined ? { state: path.resolve(o.state) } : {}),
  };
}

/** A word as a POSIX shell reads it back unchanged. */
export function shellQuote(s: string): string {
  return /^[A-Za-z0-9_\-+=/:.,@%]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`;
}

/** `guestlink rollout reboot ... --resume` with every setting that shapes the run spelled out. */
export function resumeCommand(ctx: VerbContext, a: RolloutArgs, statePath: string, targets: readonly string[]): string {
  const o = ctx.options as unknown as Readonly<Record<string, unknown>>;
  const words = ['guestlink', 'rollout', 'reboot', ...targets, '--kubeconfig', a.kubeconfig];
  if (a.context !== undefined) words.push('--context', a.context);
  for (const [vm, node] of a.nodeMap) words.push('--node-map', `${vm}=${node}`);
  if (a.ignoreCordoned) words.push('--ignore-cordoned');
  for (const k of ['node-timeout', 'settle-timeout', 'connect', 'pve-url', 'ca', 'timeout', 'output'] as const)
    if (ctx.given.has(k)) words.push(`--${k}`, String(o[camel(k)]));
  if (ctx.options.insecure) words.push('--insecure');
  words.push('--state', statePath, '--resume');
  return words.map(shellQuote).join(' ');
}
