// The Kubernetes reads a rollout makes, and only reads: the rollout itself never writes to the API
// (the agents cordon, drain and uncordon their own Nodes), so its credential can be read-only
// (deploy/rollout/rbac.yaml). Lists are paged and capped; every answer is checked (views.ts).
// Polling, not watches: a poll survives an API server that restarts (a control-plane node
// rebooting) with no reconnect logic, and one list every couple of seconds is cheap next to a
// reboot that takes minutes.
import { KubeError, statusError } from '../../kube/errors.js';
import type { RestClient } from '../../kube/rest.js';
import { RolloutError } from './errors.js';
import { printable } from './names.js';
import {
  listItems,
  type NodeView,
  type PdbView,
  parseNode,
  parsePdb,
  parseWorkload,
  type WorkloadKind,
  type WorkloadView,
} from './views.js';

/** Objects per list page: what kubectl asks for. */
export const PAGE_SIZE = 500;
/** Objects of one kind read at most; a cluster with more gets a clear error rather than unbounded memory. */
export const MAX_OBJECTS = 50_000;
/** Bytes of one answer read at most (a page of 500 large Nodes is a few MB). */
export const MAX_ANSWER_BYTES = 64 << 20;

const WORKLOAD_PATHS: Record<WorkloadKind, string> = {
  Deployment: '/apis/apps/v1/deployments',
  StatefulSet: '/apis/apps/v1/statefulsets',
  DaemonSet: '/apis/apps/v1/daemonsets',
};

/** The API server's /readyz answer. */
export interface Readyz {
  ok: boolean;
  /** The failing checks' text (escaped, cut), when not ok. */
  detail: string;
}

/** Everything the gates look at, read at one moment. */
export interface ClusterSnapshot {
  readyz: Readyz;
  nodes: NodeView[];
  workloads: WorkloadView[];
  pdbs: PdbView[];
}

/** The rollout's reads of one cluster, over the kube REST client. */
export class Cluster {
  constructor(
    readonly rest: RestClient,
    /** Per-call deadline (ms). */
    private readonly callTimeoutMs = 10_000,
  ) {}

  get server(): string {
    return this.rest.server;
  }

  private async list(path: string, kind: string): Promise<unknown[]> {
    const out: unknown[] = [];
    let cont: string | undefined;
    let pages = 0;
    do {
      // A server that keeps sending continue tokens with short pages must not keep us here forever.
      if (++pages > MAX_OBJECTS / PAGE_SIZE + 1)
        throw new RolloutError('ROLLOUT_API', `${path}: more than ${pages - 1} pages; the API server keeps asking to continue`);
      const q = new URLSearchParams({ limit: String(PAGE_SIZE) });
      if (cont) q.set('continue', cont);
      const body = await this.rest.call<unknown>('GET', `${path}?${q}`, { timeoutMs: this.callTimeoutMs, maxBytes: MAX_ANSWER_BYTES });
      const page = listItems(body, kind);
      out.push(...page.items);
      if (out.length > MAX_OBJECTS)
        throw new RolloutError('ROLLOUT_API', `more than ${MAX_OBJECTS} objects in ${path}: the rollout reads at most that many of a kind`);
      cont = page.continue;
    } while (cont);
    return out;
  }

  async nodes(): Promise<NodeView[]> {
    return (await this.list('/api/v1/nodes', 'NodeList')).map(parseNode);
  }

  /** One Node; undefined when it does not exist (404). */
  async node(name: string): Promise<NodeView | undefined> {
    try {
      const body = await this.rest.call<unknown>('GET', `/api/v1/nodes/${encodeURIComponent(name)}`, {
        timeoutMs: this.callTimeoutMs,
        maxBytes: MAX_ANSWER_BYTES,
      });
      return parseNode(body);
    } catch (err) {
      if (err instanceof KubeError && err.status === 404) return undefined;
      throw err;
    }
  }

  /** GET /readyz: 200 is ready; anything else carries the failing checks in its text. */
  async readyz(): Promise<Readyz> {
    const res = await this.rest.request('GET', '/readyz', { timeoutMs: this.callTimeoutMs, maxBytes: 1 << 20 });
    if (res.status === 200) return { ok: true, detail: 'ok' };
    if (res.status === 401 || res.status === 403) throw statusError('GET', '/readyz', res.status, res.body);
    const text = typeof res.body === 'string' ? res.body : JSON.stringify(res.body);
    const failing = text
      .split('\n')
      .filter((l) => l.startsWith('[-]'))
      .join('; ');
    return { ok: false, detail: `HTTP ${res.status}${failing || text ? `: ${printable(failing || text, 300)}` : ''}` };
  }

  async workloads(): Promise<WorkloadView[]> {
    const kinds = Object.keys(WORKLOAD_PATHS) as WorkloadKind[];
    const lists = await Promise.all(kinds.map((k) => this.list(WORKLOAD_PATHS[k], `${k}List`)));
    return kinds.flatMap((k, i) => (lists[i] ?? []).map((o) => parseWorkload(k, o)));
  }

  async pdbs(): Promise<PdbView[]> {
    return (await this.list('/apis/policy/v1/poddisruptionbudgets', 'PodDisruptionBudgetList')).map(parsePdb);
  }

  async snapshot(): Promise<ClusterSnapshot> {
    const [readyz, nodes, workloads, pdbs] = await Promise.all([this.readyz(), this.nodes(), this.workloads(), this.pdbs()]);
    return { readyz, nodes, workloads, pdbs };
  }

  close(): void {
    this.rest.close();
  }
}
