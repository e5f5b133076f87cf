// The API calls the lifecycle makes, and only those (they match deploy/kubernetes/rbac.yaml):
// nodes get/patch, pods list (one node's, by field selector), pods/eviction create, events create.
import type { RestClient, RestResponse } from './rest.js';

export interface OwnerReference {
  apiVersion?: string;
  kind: string;
  name: string;
  uid?: string;
  controller?: boolean;
}

export interface ObjectMeta {
  name: string;
  namespace?: string;
  uid: string;
  resourceVersion?: string;
  annotations?: Record<string, string>;
  labels?: Record<string, string>;
  ownerReferences?: OwnerReference[];
  deletionTimestamp?: string;
}

export interface NodeObject {
  metadata: ObjectMeta;
  spec?: { unschedulable?: boolean };
  status?: { conditions?: { type: string; status: string }[]; addresses?: { type: string; address: string }[] };
}

export interface PodObject {
  metadata: ObjectMeta;
  spec?: { nodeName?: string };
  status?: { phase?: string };
}

interface PodList {
  items?: PodObject[];
  metadata?: { continue?: string };
}

/** Pages of a pod list: large enough that a node's pods come in one call, small enough to bound memory. */
const LIST_LIMIT = 500;

export class KubeApi {
  constructor(readonly rest: RestClient) {}

  getNode(name: string, timeoutMs: number): Promise<NodeObject> {
    return this.rest.call('GET', `/api/v1/nodes/${encodeURIComponent(name)}`, { timeoutMs });
  }

  /**
   * A strategic-merge patch of the Node, as kubectl cordon sends. A metadata.resourceVersion in
   * the patch makes it conditional: 409 when the Node changed since it was read.
   */
  patchNode(name: string, patch: unknown, timeoutMs: number): Promise<NodeObject> {
    return this.rest.call('PATCH', `/api/v1/nodes/${encodeURIComponent(name)}`, {
      body: patch,
      contentType: 'application/strategic-merge-patch+json',
      timeoutMs,
    });
  }

  /** Every pod bound to the node (field selector spec.nodeName), all pages. */
  async podsOnNode(name: string, timeoutMs: number): Promise<PodObject[]> {
    const out: PodObject[] = [];
    let cont: string | undefined;
    const deadline = Date.now() + timeoutMs;
    do {
      const q = new URLSearchParams({ fieldSelector: `spec.nodeName=${name}`, limit: String(LIST_LIMIT) });
      if (cont) q.set('continue', cont);
      const page = await this.rest.call<PodList>('GET', `/api/v1/pods?${q}`, { timeoutMs: Math.max(1, deadline - Date.now()) });
      out.push(...(page.items ?? []));
      cont = page.metadata?.continue || undefined;
    } while (cont);
    return out;
  }

  /**
   * POST the policy/v1 Eviction. The pod's UID is a precondition, so a StatefulSet's replacement
   * with the same name is never evicted by mistake (409 instead). Any status is returned.
   */
  evict(pod: PodObject, timeoutMs: number): Promise<RestResponse> {
    const { name, namespace = 'default', uid } = pod.metadata;
    return this.rest.request('POST', `/api/v1/namespaces/${encodeURIComponent(namespace)}/pods/${encodeURIComponent(name)}/eviction`, {
      body: {
        apiVersion: 'policy/v1',
        kind: 'Eviction',
        metadata: { name, namespace },
        deleteOptions: { preconditions: { uid } },
      },
      timeoutMs,
    });
  }

  /** A core/v1 Event; Node events live in the "default" namespace, as the kubelet's do. */
  createEvent(event: unknown, timeoutMs: number): Promise<unknown> {
    return this.rest.call('POST', '/api/v1/namespaces/default/events', { body: event, timeoutMs });
  }
}
