// The gates, as pure functions of a cluster snapshot, so they are tested without a cluster and
// printed by --dry-run as they would be decided. Before a batch (pre-gate): the API server is
// ready, every Node is Ready, no Node is cordoned by someone else (unless --ignore-cordoned) or in
// a guestlink power action, and for a control-plane node every other control-plane node is Ready
// (etcd keeps quorum). After a batch (post-gate): every Node Ready again, the workloads that were
// healthy when the rollout started are again (ready = desired), no PodDisruptionBudget that was
// met is violated (currentHealthy >= desiredHealthy).
import type { ClusterSnapshot } from './cluster.js';
import { printable } from './names.js';
import type { Target } from './plan.js';
import type { NodeView, PdbView, WorkloadView } from './views.js';

/** One check of a gate, with what it saw. */
export interface Check {
  name: string;
  ok: boolean;
  detail: string;
}

/** A gate passes when every check does. */
export interface GateResult {
  ok: boolean;
  checks: Check[];
}

/** What was not healthy when the rollout started ("Deployment ns/name", "PodDisruptionBudget ns/name"): not held against it. */
export interface Baseline {
  unhealthy: string[];
}

/** How many names a message lists before "and N more". */
const LISTED = 5;

function names(list: readonly string[]): string {
  const shown = list.slice(0, LISTED).map((n) => printable(n, 120));
  return `${shown.join(', ')}${list.length > LISTED ? ` and ${list.length - LISTED} more` : ''}`;
}

const workloadId = (w: WorkloadView) => `${w.kind} ${w.key}`;
const pdbId = (p: PdbView) => `PodDisruptionBudget ${p.key}`;
const healthy = (w: WorkloadView) => w.ready >= w.desired;
const met = (p: PdbView) => p.currentHealthy >= p.desiredHealthy;

/** The workloads and budgets not healthy now: recorded at the start, excused later. */
export function baselineOf(s: ClusterSnapshot): Baseline {
  return { unhealthy: [...s.workloads.filter((w) => !healthy(w)).map(workloadId), ...s.pdbs.filter((p) => !met(p)).map(pdbId)] };
}

function apiReady(s: ClusterSnapshot): Check {
  return { name: 'api-ready', ok: s.readyz.ok, detail: s.readyz.ok ? '/readyz ok' : `/readyz: ${s.readyz.detail}` };
}

function nodesReady(nodes: readonly NodeView[]): Check {
  const notReady = nodes.filter((n) => !n.ready).map((n) => n.name);
  return {
    name: 'nodes-ready',
    ok: notReady.length === 0,
    detail: notReady.length ? `not Ready: ${names(notReady)}` : `all ${nodes.length} Nodes Ready`,
  };
}

/**
 * `inFlight`: nodes of this batch already rebooting (a resumed run): their own drain and downtime
 * are expected, so they are left out of the node checks.
 */
export function preGate(
  s: ClusterSnapshot,
  batch: readonly Target[],
  o: { ignoreCordoned: boolean; inFlight?: ReadonlySet<string> },
): GateResult {
  const nodes = s.nodes.filter((n) => !o.inFlight?.has(n.name));
  const checks = [apiReady(s), nodesReady(nodes)];
  const busy = nodes.filter((n) => n.lifecycle).map((n) => n.name);
  checks.push({
    name: 'no-power-action',
    ok: busy.length === 0,
    detail: busy.length
      ? `a guestlink drain or reboot is under way (or its cordon not yet undone) on ${names(busy)}`
      : 'no guestlink drain under way',
  });
  const foreign = nodes.filter((n) => n.unschedulable && !n.lifecycle).map((n) => n.name);
  checks.push({
    name: 'no-foreign-cordon',
    ok: foreign.length === 0 || o.ignoreCordoned,
    detail:
      foreign.length === 0
        ? 'no Node cordoned'
        : o.ignoreCordoned
          ? `cordoned by someone else, ignored (--ignore-cordoned): ${names(foreign)}`
          : `cordoned by someone else: ${names(foreign)} (someone may be working on them; --ignore-cordoned to go ahead anyway)`,
  });
  const cp = batch.filter((t) => t.controlPlane);
  if (cp.length > 0) {
    const mine = new Set(batch.map((t) => t.node));
    const others = nodes.filter((n) => n.controlPlane && !mine.has(n.name));
    const down = others.filter((n) => !n.ready || n.lifecycle).map((n) => n.name);
    checks.push({
      name: 'control-plane-quorum',
      ok: cp.length === 1 && down.length === 0,
      detail:
        cp.length > 1
          ? `${cp.length} control-plane nodes in one batch`
          : down.length
            ? `other control-plane nodes not Ready or going down: ${names(down)}`
            : others.length
              ? `the other ${others.length} control-plane node(s) Ready`
              : 'no other control-plane node (the API server goes away with this one)',
    });
  }
  return { ok: checks.every((c) => c.ok), checks };
}

/** After a batch: every Node Ready, workloads and budgets healthy again (the baseline excused). */
export function postGate(s: ClusterSnapshot, base: Baseline): GateResult {
  const excused = new Set(base.unhealthy);
  const checks = [apiReady(s), nodesReady(s.nodes)];
  const lagging = s.workloads.filter((w) => !healthy(w) && !excused.has(workloadId(w)));
  checks.push({
    name: 'workloads-ready',
    ok: lagging.length === 0,
    detail: lagging.length
      ? `not ready: ${names(lagging.map((w) => `${workloadId(w)} ${w.ready}/${w.desired}`))}`
      : `${s.workloads.length} Deployments/StatefulSets/DaemonSets ready${excused.size ? ` (${excused.size} unhealthy before the rollout, not counted)` : ''}`,
  });
  const violated = s.pdbs.filter((p) => !met(p) && !excused.has(pdbId(p)));
  checks.push({
    name: 'pdbs-met',
    ok: violated.length === 0,
    detail: violated.length
      ? `below their budget: ${names(violated.map((p) => `${p.key} ${p.currentHealthy}/${p.desiredHealthy} healthy`))}`
      : `${s.pdbs.length} PodDisruptionBudgets met`,
  });
  return { ok: checks.every((c) => c.ok), checks };
}

/** One line: the failing checks' details (or "ok"). */
export function gateSummary(g: GateResult): string {
  const bad = g.checks.filter((c) => !c.ok);
  return bad.length ? bad.map((c) => `${c.name}: ${c.detail}`).join('; ') : 'ok';
}
