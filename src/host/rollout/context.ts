// What the runner's parts share for one run: the cluster, the connector, the state, the options
// and where events go.
import type { Connector } from '../connectors/index.js';
import type { Cluster } from './cluster.js';
import type { Phase, RolloutEvent } from './events.js';
import type { Interrupt } from './interrupt.js';
import type { NodeState, StateStore } from './state.js';

/** Everything one run of the rollout needs. */
export interface RunOptions {
  cluster: Cluster;
  connector: Connector;
  store: StateStore;
  ignoreCordoned: boolean;
  /** From the reboot request until the node is back, Ready and uncordoned. */
  nodeTimeoutMs: number;
  /** For the post-gate after each batch, and for a later batch's pre-gate to pass. */
  settleTimeoutMs: number;
  /** Between two looks at a rebooting node (default 1000; gates poll at twice that). */
  pollMs?: number;
  interrupt: Interrupt;
  emit: (ev: RolloutEvent) => void;
  /** The exact command that resumes this rollout (printed on failure and interruption). */
  resumeCommand: string;
}

/** Emits a phase change of one node (only when it changed) and keeps it in the state. */
export function phaseOf(o: RunOptions, n: NodeState, phase: Phase, since: number, detail?: string): void {
  if (n.phase === phase) return;
  n.phase = phase;
  o.emit({ event: 'phase', node: n.node, vm: n.vm, phase, elapsedMs: Math.max(0, Date.now() - since), ...(detail ? { detail } : {}) });
}
