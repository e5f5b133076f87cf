// Which of a node's pods a drain evicts, following kubectl's filters (kubectl/pkg/drain/filters.go)
// with the options a node that is about to go down needs: DaemonSet pods are skipped (they tolerate
// unschedulable and would be recreated here; kubectl --ignore-daemonsets), mirror pods are skipped
// (the kubelet owns static pods; the API cannot move them), pods without a controller and pods with
// emptyDir are evicted anyway (kubectl --force --delete-emptydir-data: the power action would kill
// them regardless; eviction at least gives them their grace period and honours their budgets).
import type { PodObject } from './api.js';

export const MIRROR_ANNOTATION = 'kubernetes.io/config.mirror';

export type PodAction =
  /** Evict through policy/v1 and wait until it is gone. */
  | 'evict'
  /** Already terminating (deletionTimestamp set): only wait for it. */
  | 'wait'
  | 'skip-daemonset'
  | 'skip-mirror';

/** What the drain does with one pod. */
export function podAction(pod: PodObject): PodAction {
  if (pod.metadata.annotations?.[MIRROR_ANNOTATION] !== undefined) return 'skip-mirror';
  const controller = pod.metadata.ownerReferences?.find((o) => o.controller);
  if (controller?.kind === 'DaemonSet') return 'skip-daemonset';
  if (pod.metadata.deletionTimestamp) return 'wait';
  // Succeeded and Failed pods are evicted too, as kubectl deletes them: they hold no workload and
  // eviction of a terminal pod is never refused by a budget.
  return 'evict';
}

/** "namespace/name" for messages. */
export function podKey(pod: PodObject): string {
  return `${pod.metadata.namespace ?? 'default'}/${pod.metadata.name}`;
}
