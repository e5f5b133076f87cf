// More of the Kubernetes API double (kube-api.ts) for the rolling reboot, added through its
// `routes`, following the public API's shapes (core/v1, apps/v1, policy/v1):
// - GET /api/v1/nodes: NodeList with limit/continue paging;
// - GET /readyz: "ok" (text/plain) or the failing checks with 500, for every authenticated user
//   (the default system:public-info-viewer binding);
// - GET /apis/apps/v1/{deployments,statefulsets,daemonsets} and /apis/policy/v1/poddisruptionbudgets
//   (cluster-wide or in a namespace): status computed from the double's pods as the controllers
//   would (ready = Ready pods the selector matches, not terminating; zero counts omitted where the
//   Go types say omitempty); a DaemonSet wants one pod per Node; a budget's desiredHealthy is
//   minAvailable, or expected minus maxUnavailable;
// - a kubelet's reports (kubelet()): a new status.nodeInfo.bootID, Ready with a fresh heartbeat,
//   and its pods NotReady while it is not (as the node lifecycle controller marks them), Ready again
//   readyMs after it is;
// - the operator of docs/rollout.md: ROLLOUT_TOKEN, authorized by deploy/rollout/rbac.yaml only.
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { parseAllDocuments } from 'yaml';
import { type KubeApiDouble, status } from './kube-api.js';

type Obj = Record<string, any>;

export const ROLLOUT_TOKEN = 'rollout-operator-token';
export const ROLLOUT_USER = 'rollout-operator';
export const ROLLOUT_RBAC_FILE = path.resolve(path.dirname(new URL(import.meta.url).pathname), '../../../deploy/rollout/rbac.yaml');

interface Workload {
  kind: 'Deployment' | 'StatefulSet' | 'DaemonSet';
  name: string;
  namespace: string;
  matchLabels: Record<string, string>;
  replicas?: number;
  uid: string;
}

interface RbacRule {
  apiGroups?: string[];
  resources?: string[];
  verbs: string[];
  nonResourceURLs?: string[];
}

/** The ClusterRole's rules from deploy/rollout/rbac.yaml, API groups and non-resource URLs honoured. */
export function rolloutAuthorizer(file = ROLLOUT_RBAC_FILE) {
  const docs = parseAllDocuments(readFileSync(file, 'utf8')).map((d) => d.toJSON() as Obj);
  const rules: RbacRule[] = docs.filter((d) => d?.kind === 'ClusterRole').flatMap((d) => d.rules ?? []);
  return (verb: string, group: string, resource: string): boolean =>
    rules.some((r) =>
      resource.startsWith('/')
        ? (r.nonResourceURLs ?? []).includes(resource) && r.verbs.includes(verb)
        : (r.apiGroups ?? []).includes(group) && (r.resources ?? []).includes(resource) && r.verbs.includes(verb),
    );
}

/** Drops zero counts, as the API's omitempty fields do. */
function omitZero(o: Obj, keys: string[]): Obj {
  for (const k of keys) if (o[k] === 0) delete o[k];
  return o;
}

function page(items: Obj[], url: URL, kind: string, rv: string): Obj {
  const limit = Number(url.searchParams.get('limit') ?? 0);
  const start = Number(url.searchParams.get('continue') ?? 0);
  const slice = limit > 0 ? items.slice(start, start + limit) : items.slice(start);
  const more = limit > 0 && start + limit < items.length;
  return {
    kind,
    apiVersion: kind === 'NodeList' ? 'v1' : kind === 'PodDisruptionBudgetList' ? 'policy/v1' : 'apps/v1',
    metadata: { resourceVersion: rv, ...(more ? { continue: String(start + limit) } : {}) },
    items: slice,
  };
}

export class ClusterDouble {
  readonly workloads: Workload[] = [];
  /** /readyz: ok, or the failing checks (as "[-]etcd failed: reason withheld" lines). */
  readyz: { ok: boolean; failing?: string[] } = { ok: true };
  private readonly pending = new Set<NodeJS.Timeout>();

  constructor(readonly api: KubeApiDouble) {
    api.tokens.set(ROLLOUT_TOKEN, ROLLOUT_USER);
    api.authorizers.set(ROLLOUT_USER, rolloutAuthorizer());
    api.routes.push((r) => this.route(r.method, r.url, r.user));
  }

  addDeployment(w: { name: string; namespace?: string; replicas: number; matchLabels: Record<string, string> }): void {
    this.workloads.push({ kind: 'Deployment', namespace: 'default', uid: randomUUID(), ...w });
  }

  addStatefulSet(w: { name: string; namespace?: string; replicas: number; matchLabels: Record<string, string> }): void {
    this.workloads.push({ kind: 'StatefulSet', namespace: 'default', uid: randomUUID(), ...w });
  }

  addDaemonSet(w: { name: string; namespace?: string; matchLabels: Record<string, string> }): void {
    this.workloads.push({ kind: 'DaemonSet', namespace: 'default', uid: randomUUID(), ...w });
  }

  /** The kubelet (and the node lifecycle controller) of node `name` reporting. */
  kubelet(name: string, o: { ready: boolean; bootId?: string }): void {
    if (o.bootId) this.api.setBootId(name, o.bootId);
    this.api.setNodeReady(name, o.ready);
    for (const p of this.api.podsOn(name)) {
      if (!o.ready) p.status.conditions = [{ type: 'Ready', status: 'False' }];
      else if (!p.metadata.deletionTimestamp && p.status.conditions?.[0]?.status !== 'True') {
        const t = setTimeout(() => {
          this.pending.delete(t);
          if (!p.metadata.deletionTimestamp && this.api.nodes.get(name)?.status.conditions[0].status === 'True')
            p.status.conditions = [{ type: 'Ready', status: 'True' }];
        }, this.api.readyMs);
        this.pending.add(t);
      }
    }
  }

  stop(): void {
    for (const t of this.pending) clearTimeout(t);
    this.pending.clear();
  }

  private selected(w: { namespace: string; matchLabels: Record<string, string> }): Obj[] {
    return [...this.api.pods.values()].filter(
      (p) => p.metadata.namespace === w.namespace && !p.metadata.deletionTimestamp && this.api.matches(p, w.matchLabels),
    );
  }

  /** The object as the API server returns it, status computed now. */
  workloadObject(w: Workload): Obj {
    const pods = this.selected(w);
    const ready = pods.filter((p) => this.api.ready(p)).length;
    const meta = { name: w.name, namespace: w.namespace, uid: w.uid, generation: 1, resourceVersion: '1' };
    const spec = {
      selector: { matchLabels: w.matchLabels },
      template: { metadata: { labels: w.matchLabels }, spec: { containers: [{ name: 'c', image: 'registry.k8s.io/pause:3.10' }] } },
    };
    if (w.kind === 'DaemonSet') {
      const desired = this.api.nodes.size;
      const scheduled = new Set(pods.map((p) => p.spec.nodeName)).size;
      return {
        apiVersion: 'apps/v1',
        kind: 'DaemonSet',
        metadata: meta,
        spec,
        status: omitZero(
          {
            currentNumberScheduled: scheduled,
            numberMisscheduled: 0,
            desiredNumberScheduled: desired,
            numberReady: ready,
            observedGeneration: 1,
            updatedNumberScheduled: scheduled,
            numberAvailable: ready,
            numberUnavailable: desired - ready,
          },
          ['numberAvailable', 'numberUnavailable', 'updatedNumberScheduled'],
        ),
      };
    }
    const replicas = w.replicas ?? 1;
    if (w.kind === 'StatefulSet')
      return {
        apiVersion: 'apps/v1',
        kind: 'StatefulSet',
        metadata: meta,
        spec: { ...spec, replicas, serviceName: w.name },
        status: omitZero(
          {
            observedGeneration: 1,
            replicas: pods.length,
            readyReplicas: ready,
            currentReplicas: pods.length,
            updatedReplicas: pods.length,
            availableReplicas: ready,
            currentRevision: `${w.name}-1`,
            updateRevision: `${w.name}-1`,
            collisionCount: 0,
          },
          ['readyReplicas', 'currentReplicas', 'updatedReplicas', 'availableReplicas'],
        ),
      };
    return {
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: meta,
      spec: { ...spec, replicas },
      status: omitZero(
        {
          observedGeneration: 1,
          replicas: pods.length,
          updatedReplicas: pods.length,
          readyReplicas: ready,
          availableReplicas: ready,
          unavailableReplicas: Math.max(0, replicas - ready),
        },
        ['replicas', 'updatedReplicas', 'readyReplicas', 'availableReplicas', 'unavailableReplicas'],
      ),
    };
  }

  pdbObject(b: Obj): Obj {
    const selected = this.selected({ namespace: b.namespace, matchLabels: b.matchLabels });
    const healthy = selected.filter((p) => this.api.ready(p)).length;
    const expected = b.expected as number;
    const desired = b.minAvailable ?? Math.max(0, expected - (b.maxUnavailable ?? 0));
    const allowed = Math.max(0, healthy - desired);
    return {
      apiVersion: 'policy/v1',
      kind: 'PodDisruptionBudget',
      metadata: { name: b.name, namespace: b.namespace, uid: `uid-pdb-${b.name}`, generation: 1 },
      spec: {
        selector: { matchLabels: b.matchLabels },
        ...(b.minAvailable !== undefined ? { minAvailable: b.minAvailable } : { maxUnavailable: b.maxUnavailable ?? 0 }),
      },
      status: {
        observedGeneration: 1,
        disruptionsAllowed: allowed,
        currentHealthy: healthy,
        desiredHealthy: desired,
        expectedPods: expected,
        conditions: [
          {
            type: 'DisruptionAllowed',
            status: allowed > 0 ? 'True' : 'False',
            reason: allowed > 0 ? 'SufficientPods' : 'InsufficientPods',
            lastTransitionTime: new Date().toISOString(),
          },
        ],
      },
    };
  }

  private route(method: string, url: URL, user: string): [number, Obj | string] | undefined {
    if (method !== 'GET') return undefined;
    const p = url.pathname;
    const rv = String(Date.now());
    if (p === '/readyz') {
      if (this.readyz.ok) return [200, 'ok'];
      return [
        500,
        `[+]ping ok\n${(this.readyz.failing ?? ['etcd']).map((c) => `[-]${c} failed: reason withheld`).join('\n')}\nreadyz check failed`,
      ];
    }
    if (p === '/api/v1/nodes') {
      const denied = this.api.authorize(user, 'list', 'nodes', undefined, undefined);
      if (denied) return [403, denied];
      return [200, page([...this.api.nodes.values()], url, 'NodeList', rv)];
    }
    const m = /^\/apis\/(apps|policy)\/v1\/(?:namespaces\/([^/]+)\/)?(deployments|statefulsets|daemonsets|poddisruptionbudgets)$/.exec(p);
    if (!m) return p.startsWith('/apis/') ? [404, status(404, 'NotFound', 'the server could not find the requested resource')] : undefined;
    const [, group, ns, resource] = m as unknown as [string, string, string | undefined, string];
    if ((group === 'policy') !== (resource === 'poddisruptionbudgets'))
      return [404, status(404, 'NotFound', 'the server could not find the requested resource')];
    const denied = this.api.authorize(user, 'list', resource, ns, undefined, group);
    if (denied) return [403, denied];
    if (resource === 'poddisruptionbudgets') {
      const items = this.api.pdbs.filter((b) => !ns || b.namespace === ns).map((b) => this.pdbObject(b));
      return [200, page(items, url, 'PodDisruptionBudgetList', rv)];
    }
    const kind = { deployments: 'Deployment', statefulsets: 'StatefulSet', daemonsets: 'DaemonSet' }[resource];
    const items = this.workloads.filter((w) => w.kind === kind && (!ns || w.namespace === ns)).map((w) => this.workloadObject(w));
    return [200, page(items, url, `${kind}List`, rv)];
  }
}
