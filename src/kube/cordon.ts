// Cordon and uncordon with a record on the Node of what guestlink did: the annotation says which
// boot of this machine asked for which power action, until when, and whether guestlink (rather
// than someone else) set spec.unschedulable. The boot id tells, after a start, "the agent restarted
// mid-drain" (same boot) from "the node came back after the power action" (new boot). Keeping the
// record on the Node rather than in a local file makes it survive a DaemonSet pod's restart.
import { readFileSync } from 'node:fs';
import type { KubeApi, NodeObject } from './api.js';
import { KubeError } from './errors.js';

export const LIFECYCLE_ANNOTATION = 'guestlink.io/lifecycle';
export const BOOT_ID_FILE = '/proc/sys/kernel/random/boot_id';

export interface LifecycleRecord {
  bootId: string;
  mode: 'powerdown' | 'halt' | 'reboot';
  requested: string;
  /** When the drain stops, finished or not (ISO time). */
  deadline: string;
  /** True when guestlink set spec.unschedulable; false when the node was cordoned already. */
  cordoned: boolean;
  /** draining until the power action is handed to the OS; then handed-over. */
  phase: 'draining' | 'handed-over';
}

export function readBootId(file = BOOT_ID_FILE): string {
  return readFileSync(file, 'utf8').trim();
}

/** The record on a Node, or undefined when there is none or it is not ours to read. */
export function lifecycleRecord(node: NodeObject): LifecycleRecord | undefined {
  const text = node.metadata.annotations?.[LIFECYCLE_ANNOTATION];
  if (!text) return undefined;
  try {
    const r = JSON.parse(text) as Partial<LifecycleRecord>;
    if (typeof r.bootId !== 'string' || typeof r.cordoned !== 'boolean') return undefined;
    return { phase: 'draining', mode: 'powerdown', requested: '', deadline: '', ...r } as LifecycleRecord;
  } catch {
    return undefined;
  }
}

export function isReady(node: NodeObject, since?: number): boolean {
  const c = node.status?.conditions?.find((x) => x.type === 'Ready') as { status: string; lastHeartbeatTime?: string } | undefined;
  if (c?.status !== 'True') return false;
  // Before the kubelet of this boot reports, the Node still shows the Ready of the last boot.
  if (since !== undefined && c.lastHeartbeatTime && Date.parse(c.lastHeartbeatTime) < since) return false;
  return true;
}

/** Retries a Node change on 409 (the Node changed since we read it): read, decide, patch. */
async function withFreshNode<T>(
  api: KubeApi,
  name: string,
  timeout: () => number,
  step: (node: NodeObject) => { patch?: unknown; value: T },
): Promise<T> {
  for (let attempt = 0; ; attempt++) {
    const node = await api.getNode(name, timeout());
    const { patch, value } = step(node);
    if (patch === undefined) return value;
    try {
      await api.patchNode(name, { metadata: { resourceVersion: node.metadata.resourceVersion }, ...(patch as object) }, timeout());
      return value;
    } catch (err) {
      if (!(err instanceof KubeError && err.status === 409) || attempt >= 5) throw err;
    }
  }
}

/**
 * Sets spec.unschedulable and the record. Whether guestlink cordoned is carried over from an
 * earlier record of ours, else it is "the node was schedulable".
 */
export async function cordonNode(
  api: KubeApi,
  name: string,
  record: Omit<LifecycleRecord, 'cordoned'>,
  timeout: () => number,
): Promise<{ cordoned: boolean; uid: string; already: boolean }> {
  return withFreshNode(api, name, timeout, (node) => {
    const earlier = lifecycleRecord(node);
    const unschedulable = node.spec?.unschedulable === true;
    // An earlier record of ours (this boot's resumed drain, or a boot whose uncordon has not happened
    // yet) means the cordon in place is still ours to undo.
    const cordoned = !unschedulable || earlier?.cordoned === true;
    const full: LifecycleRecord = { ...record, cordoned };
    return {
      patch: { metadata: { annotations: { [LIFECYCLE_ANNOTATION]: JSON.stringify(full) } }, spec: { unschedulable: true } },
      value: { cordoned, uid: node.metadata.uid, already: unschedulable },
    };
  });
}

/** Updates the record's phase, if the record is still this boot's. */
export async function markPhase(api: KubeApi, name: string, bootId: string, phase: LifecycleRecord['phase'], timeout: () => number) {
  await withFreshNode(api, name, timeout, (node) => {
    const r = lifecycleRecord(node);
    if (!r || r.bootId !== bootId) return { value: undefined };
    return { patch: { metadata: { annotations: { [LIFECYCLE_ANNOTATION]: JSON.stringify({ ...r, phase }) } } }, value: undefined };
  });
}

/**
 * Undoes what the record of boot `bootId` says guestlink did: uncordons only when guestlink
 * cordoned and the node is still cordoned, and removes the record either way. A record of another
 * boot is left alone (a drain that started meanwhile owns it). Returns what it did.
 */
export async function releaseNode(
  api: KubeApi,
  name: string,
  bootId: string,
  timeout: () => number,
): Promise<'uncordoned' | 'record-removed' | 'nothing'> {
  return withFreshNode(api, name, timeout, (node) => {
    const r = lifecycleRecord(node);
    if (!r || r.bootId !== bootId) return { value: 'nothing' as const };
    const uncordon = r?.cordoned === true && node.spec?.unschedulable === true;
    return {
      patch: {
        metadata: { annotations: { [LIFECYCLE_ANNOTATION]: null } },
        ...(uncordon ? { spec: { unschedulable: false } } : {}),
      },
      value: uncordon ? ('uncordoned' as const) : ('record-removed' as const),
    };
  });
}
