// The rollout verb's exit codes (docs/rollout.md and docs/cli.md list the same), and the mapping
// from what ended it.
import { AddressError, AgentUnreachableError } from '../../host/errors.js';
import { KubeError, RolloutError } from '../../host/rollout/errors.js';
import { UsageError } from '../args.js';
import { EXIT } from '../exit-codes.js';

/** The rollout's exit codes (the CLI's table, src/cli/exit-codes.ts, holds them all). */
export const ROLLOUT_EXIT = {
  /** Every planned node rebooted, back, uncordoned, and the cluster settled (or --dry-run: it could start now). */
  ok: EXIT.ok,
  /** Bad options, or a VM that could not be matched to exactly one Node; nothing was started. */
  usage: EXIT.usage,
  /** The API server or a hypervisor API could not be reached (or answered nonsense) before anything started. */
  unreachable: EXIT.unreachable,
  /** A gate did not pass: the cluster was not healthy before a batch, or did not settle after one. */
  gate: EXIT.gate,
  /** A node failed: its agent refused the reboot, it did not come back within --node-timeout, or it was not drained. */
  node: EXIT.node,
  /** The state file cannot be used: damaged, a symlink, another cluster's, unfinished without --resume, or in use. */
  state: EXIT.state,
  /** Interrupted (Ctrl-C) at a safe point, or at once on the second one; resumable. */
  interrupted: EXIT.interrupted,
} as const;

const BY_CODE: Record<RolloutError['code'], number> = {
  ROLLOUT_USAGE: ROLLOUT_EXIT.usage,
  ROLLOUT_MATCH: ROLLOUT_EXIT.usage,
  ROLLOUT_API: ROLLOUT_EXIT.unreachable,
  ROLLOUT_GATE: ROLLOUT_EXIT.gate,
  ROLLOUT_NODE: ROLLOUT_EXIT.node,
  ROLLOUT_STATE: ROLLOUT_EXIT.state,
  ROLLOUT_INTERRUPTED: ROLLOUT_EXIT.interrupted,
};

/** The exit code for an error code recorded in a state file, or an error that ended the verb. */
export function rolloutExit(err: unknown): number {
  if (typeof err === 'string') return BY_CODE[err as RolloutError['code']] ?? ROLLOUT_EXIT.node;
  if (err instanceof RolloutError) return BY_CODE[err.code];
  if (err instanceof UsageError || err instanceof AddressError) return ROLLOUT_EXIT.usage;
  if (err instanceof AgentUnreachableError || err instanceof KubeError) return ROLLOUT_EXIT.unreachable;
  return ROLLOUT_EXIT.unreachable;
}
