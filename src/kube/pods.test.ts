import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { PodObject } from './api.js';
import { podAction } from './pods.js';

const pod = (meta: Partial<PodObject['metadata']> = {}, phase = 'Running'): PodObject => ({
  metadata: { name: 'p', namespace: 'ns', uid: 'u', ...meta },
  status: { phase },
});
const owned = (kind: string, controller = true) => ({ ownerReferences: [{ kind, name: 'x', controller }] });

test("kubectl's filters for a node going down", () => {
  assert.equal(podAction(pod(owned('ReplicaSet'))), 'evict');
  assert.equal(podAction(pod(owned('StatefulSet'))), 'evict');
  assert.equal(podAction(pod(owned('DaemonSet'))), 'skip-daemonset');
  // Only the controller reference decides: a non-controller DaemonSet owner is not a DaemonSet pod.
  assert.equal(podAction(pod(owned('DaemonSet', false))), 'evict');
  assert.equal(podAction(pod({ annotations: { 'kubernetes.io/config.mirror': 'abc' } })), 'skip-mirror');
  assert.equal(podAction(pod()), 'evict', 'unmanaged pods are evicted (kubectl --force): the power action would kill them anyway');
  assert.equal(podAction(pod(owned('Job'), 'Succeeded')), 'evict');
  assert.equal(podAction(pod({ deletionTimestamp: '2026-01-01T00:00:00Z' })), 'wait');
});
