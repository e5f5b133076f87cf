// The rollout's failures, one class with a stable code each. The CLI maps the codes to its
// documented exit codes (docs/rollout.md); every message says what happened and what to do next.

/** The Kubernetes client's errors, for callers that may not import kube/ themselves (the CLI). */
export { KubeError } from '../../kube/errors.js';

/** Stable codes: the CLI's exit code is chosen by them. */
export type RolloutErrorCode =
  /** Bad options or an impossible plan; nothing was started. */
  | 'ROLLOUT_USAGE'
  /** A VM could not be matched to exactly one Node (unmatched, two VMs claim one Node, ...); nothing was started. */
  | 'ROLLOUT_MATCH'
  /** The API server could not be reached or answered something that is not the Kubernetes API, before anything started. */
  | 'ROLLOUT_API'
  /** A gate did not pass: the cluster was not healthy before a node, or did not settle after one. */
  | 'ROLLOUT_GATE'
  /** A node failed: its agent refused the reboot, it did not come back in time, or it was not drained. */
  | 'ROLLOUT_NODE'
  /** The state file cannot be used (corrupt, a symlink, another rollout's, one still unfinished). */
  | 'ROLLOUT_STATE'
  /** Stopped by SIGINT at a safe point (or at once, on the second one); resumable. */
  | 'ROLLOUT_INTERRUPTED';

/** A rollout failure with its code, and the node and phase it concerns when one. */
export class RolloutError extends Error {
  constructor(
    readonly code: RolloutErrorCode,
    message: string,
    /** The node it happened to, and its phase then, when it concerns one. */
    readonly node?: string,
    readonly phase?: string,
  ) {
    super(message);
    this.name = 'RolloutError';
  }
}
