// The plan: which VM is which Node, in which order, in which batches. Pure: it takes the matched
// targets and the cluster's Nodes and decides; nothing is contacted here, so --dry-run shows
// exactly what a run would do. Rules (docs/rollout.md):
// - order: workers before control-plane nodes by default (a worker's reboot risks only its pods;
//   the control plane is done last, once the workers have shown the procedure works); or
//   control-plane nodes first; or the order the targets were given in.
// - batches of at most --max-unavailable nodes; a control-plane node is always alone in its batch,
//   so never more than one control-plane node is down (etcd keeps its quorum).
import { RolloutError } from './errors.js';
import { printable } from './names.js';
import type { NodeView } from './views.js';

/** The orders --order takes. */
export const ORDERS = ['workers-first', 'control-planes-first', 'given'] as const;
/** One of ORDERS. */
export type Order = (typeof ORDERS)[number];

/** One VM matched to its Node. */
export interface Target {
  /** The VM's address (unix:..., libvirt:DOMAIN, pve://NODE/VMID). */
  vm: string;
  node: string;
  controlPlane: boolean;
  /** How the match was made: the guest's host name, or --node-map. */
  matchedBy: 'host-name' | 'node-map';
}

/** The batches in order, and what to warn about. */
export interface Plan {
  order: Order;
  maxUnavailable: number;
  batches: Target[][];
  /** Things the user should know before saying yes (printed with the plan). */
  warnings: string[];
}

/** --order and --max-unavailable. */
export interface PlanOptions {
  order: Order;
  maxUnavailable: number;
}

const byName = (a: Target, b: Target) => (a.node < b.node ? -1 : a.node > b.node ? 1 : 0);

/** Orders and batches the targets; throws ROLLOUT_USAGE for an impossible request. */
export function makePlan(targets: readonly Target[], nodes: readonly NodeView[], o: PlanOptions): Plan {
  if (!Number.isSafeInteger(o.maxUnavailable) || o.maxUnavailable < 1)
    throw new RolloutError('ROLLOUT_USAGE', '--max-unavailable must be a whole number of nodes, at least 1');
  const workers = targets.filter((t) => !t.controlPlane);
  const cps = targets.filter((t) => t.controlPlane);
  const ordered =
    o.order === 'given'
      ? [...targets]
      : o.order === 'workers-first'
        ? [...workers.sort(byName), ...cps.sort(byName)]
        : [...cps.sort(byName), ...workers.sort(byName)];
  const batches: Target[][] = [];
  let current: Target[] = [];
  for (const t of ordered) {
    if (t.controlPlane) {
      if (current.length) batches.push(current);
      batches.push([t]);
      current = [];
      continue;
    }
    current.push(t);
    if (current.length >= o.maxUnavailable) {
      batches.push(current);
      current = [];
    }
  }
  if (current.length) batches.push(current);
  return { order: o.order, maxUnavailable: o.maxUnavailable, batches, warnings: warnings(batches, nodes) };
}

function warnings(batches: Target[][], nodes: readonly NodeView[]): string[] {
  const out: string[] = [];
  const cpNodes = nodes.filter((n) => n.controlPlane);
  const targetedCp = batches.flat().filter((t) => t.controlPlane);
  if (cpNodes.length === 0)
    out.push(
      'no Node carries the node-role.kubernetes.io/control-plane label: every node is treated as a worker (a managed control plane?)',
    );
  if (targetedCp.length > 0 && cpNodes.length === 1)
    out.push(
      `${printable(cpNodes[0]?.name)} is the only control-plane node: the API server is unavailable while it reboots (the rollout waits for it)`,
    );
  if (targetedCp.length > 0 && cpNodes.length === 2)
    out.push(
      'the cluster has 2 control-plane nodes: an etcd of 2 members loses quorum while either is down, so the API server is unavailable while each reboots',
    );
  const workers = nodes.filter((n) => !n.controlPlane).map((n) => n.name);
  for (const [i, b] of batches.entries()) {
    const names = new Set(b.map((t) => t.node));
    if (workers.length > 0 && !b[0]?.controlPlane && workers.every((w) => names.has(w)))
      out.push(`batch ${i + 1} takes down every worker node at once: evicted pods have nowhere to go until they are back`);
  }
  return out;
}
