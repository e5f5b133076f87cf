// Typed views of the API objects a rollout reads, checked field by field: an API server (or a proxy
// in front of it) that answers something else gets an error naming what was wrong, never a
// TypeError deep in a gate, and never a gate passed because a field was missing. Field names are
// the public API's (core/v1 Node, apps/v1 Deployment/StatefulSet/DaemonSet, policy/v1 PDB).

import type { NodeObject } from '../../kube/api.js';
import { LIFECYCLE_ANNOTATION, type LifecycleRecord, lifecycleRecord } from '../../kube/cordon.js';
import { RolloutError } from './errors.js';
import { isNodeName, printable } from './names.js';

type Obj = Record<string, unknown>;

/** The labels kubeadm, k3s, Talos and others put on control-plane Nodes (master: before Kubernetes 1.24). */
export const CONTROL_PLANE_LABELS = ['node-role.kubernetes.io/control-plane', 'node-role.kubernetes.io/master'] as const;

/** What a rollout needs to know about one Node. */
export interface NodeView {
  name: string;
  controlPlane: boolean;
  /** The Ready condition is True. */
  ready: boolean;
  /** The Ready condition's lastHeartbeatTime (ISO), when present. */
  heartbeat?: string;
  unschedulable: boolean;
  /** status.nodeInfo.bootID: changes exactly when the machine booted again. */
  bootId?: string;
  /** guestlink's cordon record (the agent's drain or its undone cordon), when present. */
  lifecycle?: LifecycleRecord;
  /** status.addresses of type InternalIP/ExternalIP. */
  addresses: string[];
}

/** The workloads the post-gate counts. */
export type WorkloadKind = 'Deployment' | 'StatefulSet' | 'DaemonSet';

/** A workload's ready count against what it wants. */
export interface WorkloadView {
  kind: WorkloadKind;
  /** namespace/name */
  key: string;
  desired: number;
  ready: number;
}

/** A PodDisruptionBudget's health as its controller computes it. */
export interface PdbView {
  key: string;
  currentHealthy: number;
  desiredHealthy: number;
  disruptionsAllowed: number;
}

const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);

function garbage(what: string, why: string): RolloutError {
  return new RolloutError(
    'ROLLOUT_API',
    `the API server sent ${what} that is not valid: ${why}; is the kubeconfig's server a Kubernetes API server (not a proxy or a login page)?`,
  );
}

/** A count field: absent is 0 (the API omits zero counts), anything but a non-negative integer is garbage. */
function count(o: Obj | undefined, key: string, what: string): number {
  const v = o?.[key];
  if (v === undefined || v === null) return 0;
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 0) throw garbage(what, `${key} is ${printable(JSON.stringify(v), 40)}`);
  return v;
}

function meta(o: unknown, what: string): { name: string; namespace?: string; obj: Obj } {
  if (!isObj(o) || !isObj(o.metadata) || typeof o.metadata.name !== 'string' || o.metadata.name === '')
    throw garbage(what, 'no metadata.name');
  const ns = o.metadata.namespace;
  if (ns !== undefined && typeof ns !== 'string') throw garbage(what, 'metadata.namespace is not a string');
  return { name: o.metadata.name, ...(ns ? { namespace: ns } : {}), obj: o };
}

/** The items of a list answer (kind *List); garbage when there is no items array. */
export function listItems(body: unknown, kind: string): { items: unknown[]; continue?: string } {
  if (!isObj(body) || !Array.isArray(body.items)) throw garbage(`a ${kind}`, 'no items array');
  const cont = isObj(body.metadata) && typeof body.metadata.continue === 'string' ? body.metadata.continue : undefined;
  return { items: body.items, ...(cont ? { continue: cont } : {}) };
}

/** The NodeView of an API Node object; throws ROLLOUT_API for garbage. */
export function parseNode(raw: unknown): NodeView {
  const { name, obj } = meta(raw, 'a Node');
  if (!isNodeName(name)) throw garbage('a Node', `its name "${printable(name, 80)}" is not a valid Node name`);
  const labels = isObj((obj.metadata as Obj).labels) ? ((obj.metadata as Obj).labels as Obj) : {};
  const spec = isObj(obj.spec) ? obj.spec : {};
  const status = isObj(obj.status) ? obj.status : {};
  const conditions = Array.isArray(status.conditions) ? status.conditions.filter(isObj) : [];
  const readyCond = conditions.find((c) => c.type === 'Ready');
  const nodeInfo = isObj(status.nodeInfo) ? status.nodeInfo : {};
  const bootId = typeof nodeInfo.bootID === 'string' && nodeInfo.bootID !== '' ? nodeInfo.bootID : undefined;
  const addresses = (Array.isArray(status.addresses) ? status.addresses.filter(isObj) : [])
    .filter((a) => (a.type === 'InternalIP' || a.type === 'ExternalIP') && typeof a.address === 'string')
    .map((a) => a.address as string);
  const view: NodeView = {
    name,
    controlPlane: CONTROL_PLANE_LABELS.some((l) => Object.hasOwn(labels, l)),
    ready: readyCond?.status === 'True',
    unschedulable: spec.unschedulable === true,
    addresses,
  };
  if (typeof readyCond?.lastHeartbeatTime === 'string') view.heartbeat = readyCond.lastHeartbeatTime;
  if (bootId) view.bootId = bootId;
  const rec = (obj.metadata as Obj).annotations;
  if (isObj(rec) && typeof rec[LIFECYCLE_ANNOTATION] === 'string') {
    const r = lifecycleRecord(obj as unknown as NodeObject);
    if (r) view.lifecycle = r;
  }
  return view;
}

function key(m: { name: string; namespace?: string }): string {
  return `${m.namespace ?? 'default'}/${m.name}`;
}

/** Ready against desired, as `kubectl get` shows them (READY column). */
export function parseWorkload(kind: WorkloadKind, raw: unknown): WorkloadView {
  const m = meta(raw, `a ${kind}`);
  const what = `${kind} ${printable(key(m), 120)}`;
  const spec = isObj(m.obj.spec) ? m.obj.spec : {};
  const status = isObj(m.obj.status) ? m.obj.status : {};
  if (kind === 'DaemonSet')
    return { kind, key: key(m), desired: count(status, 'desiredNumberScheduled', what), ready: count(status, 'numberReady', what) };
  // spec.replicas defaults to 1 when unset (the API server fills it in; a double or an old proxy may not).
  const desired = spec.replicas === undefined ? 1 : count(spec, 'replicas', what);
  return { kind, key: key(m), desired, ready: count(status, 'readyReplicas', what) };
}

/** The PdbView of a policy/v1 PodDisruptionBudget; throws ROLLOUT_API for garbage. */
export function parsePdb(raw: unknown): PdbView {
  const m = meta(raw, 'a PodDisruptionBudget');
  const what = `PodDisruptionBudget ${printable(key(m), 120)}`;
  const status = isObj(m.obj.status) ? m.obj.status : {};
  return {
    key: key(m),
    currentHealthy: count(status, 'currentHealthy', what),
    desiredHealthy: count(status, 'desiredHealthy', what),
    disruptionsAllowed: count(status, 'disruptionsAllowed', what),
  };
}
