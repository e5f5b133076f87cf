// What a rollout reports while it runs: the CLI draws its per-node lines and summary from these,
// and `-o json` prints them as they come, one JSON object per line, for automation.
import type { Check } from './gates.js';
import type { NodeStatus } from './state.js';

/** Where one node stands (docs/rollout.md lists them in order). */
export type Phase =
  | 'pending'
  | 'pre-gate'
  | 'requested'
  | 'cordoned'
  | 'down'
  | 'booted'
  | 'ready'
  | 'uncordoned'
  | 'settling'
  | 'done'
  | 'failed'
  | 'skipped';

/** One node's line in the summary and in the end event. */
export interface NodeSummary {
  node: string;
  vm: string;
  controlPlane: boolean;
  batch: number;
  status: NodeStatus;
  phase?: string;
  bootIdBefore?: string;
  bootIdAfter?: string;
  ms?: number;
  error?: string;
}

/** Every event the runner emits (the JSON stream's objects, without `at`). */
export type RolloutEvent =
  | {
      event: 'plan';
      rollout: string;
      server: string;
      context: string;
      state: string;
      resumed: boolean;
      batches: { node: string; vm: string; controlPlane: boolean; matchedBy: string; status: NodeStatus }[][];
      warnings: string[];
    }
  | { event: 'gate'; gate: 'pre' | 'post'; batch: number; ok: boolean; waiting: boolean; checks: Check[] }
  | { event: 'phase'; node: string; vm: string; phase: Phase; elapsedMs: number; detail?: string }
  | { event: 'node-done'; node: string; vm: string; bootIdBefore: string; bootIdAfter: string; ms: number }
  | { event: 'interrupt'; level: number; message: string }
  | {
      event: 'end';
      result: 'done' | 'failed' | 'interrupted';
      code?: string;
      message?: string;
      node?: string;
      resume?: string;
      state: string;
      nodes: NodeSummary[];
    };

/** Adds the time to each event; the sink decides how to show it. */
export type EventSink = (ev: RolloutEvent & { at: string }) => void;
