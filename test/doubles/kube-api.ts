// A double of the Kubernetes API server, over HTTP or HTTPS, for the calls a node drain makes. It
// follows the documented semantics (API reference, kubectl/pkg/drain, the eviction subresource's
// docs), not a recording:
// - nodes: GET; PATCH as strategic-merge or JSON merge patch (null deletes a key; a
//   metadata.resourceVersion in the patch is a precondition: 409 when stale); other types 415.
// - pods: list across namespaces with fieldSelector spec.nodeName=... (other field labels 400),
//   limit/continue paging; owner references (ReplicaSet, StatefulSet, DaemonSet), mirror pods.
// - pods/eviction (policy/v1): 201 Success; 429 TooManyRequests with a DisruptionBudget cause while
//   a PodDisruptionBudget has no disruption left (until replacements elsewhere become Ready);
//   500 when more than one budget selects the pod; 404 for a pod that is gone; 409 when the
//   preconditions.uid no longer matches.
// - controllers, simplified: an evicted pod terminates after `terminationMs`; a ReplicaSet creates
//   its replacement at once on another schedulable node, a StatefulSet after the old pod is gone
//   (same name, new UID); replacements become Ready after `readyMs`; nothing lands on a cordoned node.
// - events: create in a namespace.
// - nodes carry status.nodeInfo.bootID, addresses and optionally the control-plane role label;
//   test/doubles/kube-workloads.ts adds (through `routes`) node lists, /readyz, apps/v1 workloads
//   and policy/v1 PodDisruptionBudgets with their status, and a kubelet's reports.
// - authentication by bearer token (401 otherwise) and authorization by the RBAC rules in
//   deploy/kubernetes/rbac.yaml and any extra manifests (403 with the API server's message for
//   anything else), so the tests prove the shipped manifests are enough (kube-rbac.ts).
// - certificatesigningrequests with watch and approval, the kubelet-serving signer, TokenReview and
//   SubjectAccessReview: kube-certificates.ts. With TLS, the double's serving certificate comes from
//   its cluster CA (kube-ca.ts), which also signs users' client certificates and approved CSRs, so
//   `ca` is the one CA a kubeconfig, the agent and a client all trust, as in a real cluster.
import { randomUUID } from 'node:crypto';
import http from 'node:http';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { ClusterCa } from './kube-ca.js';
import { CertificatesDouble, type SignerOptions } from './kube-certificates.js';
import { type Attributes, Rbac, type UserInfo } from './kube-rbac.js';

const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
/** The checkout (this file runs from dist/test/doubles/): where the manifests are. */
export const REPO_ROOT_DIR = REPO_ROOT;
export const RBAC_FILE = path.join(REPO_ROOT, 'deploy/kubernetes/rbac.yaml');

type Obj = Record<string, any>;

export interface PodSpec {
  name: string;
  namespace?: string;
  node: string;
  owner?: { kind: 'ReplicaSet' | 'StatefulSet' | 'DaemonSet' | 'Job'; name: string };
  labels?: Record<string, string>;
  mirror?: boolean;
  phase?: 'Running' | 'Succeeded' | 'Failed' | 'Pending';
  ready?: boolean;
  /** Milliseconds this pod takes to terminate once evicted (default: the double's terminationMs). */
  terminationMs?: number;
}

export interface PdbSpec {
  name: string;
  namespace?: string;
  matchLabels: Record<string, string>;
  minAvailable?: number;
  maxUnavailable?: number;
}

export interface RequestRecord {
  method: string;
  path: string;
  status: number;
  user: string;
  at: number;
  contentType?: string;
  body?: unknown;
}

export interface DoubleOptions {
  tls?: boolean;
  /** Time from an accepted eviction to the pod's removal (its grace period), ms. */
  terminationMs?: number;
  /** Time for a replacement pod to become Ready, ms. */
  readyMs?: number;
  /** Rules for the service account; default: read from deploy/kubernetes/rbac.yaml. */
  rbacFile?: string;
  /** More manifests whose roles and bindings apply too (the management endpoint's, users' roles). */
  extraRbacFiles?: string[];
  /** The kubelet-serving signer's duration cap and backdating. */
  signer?: SignerOptions;
  /** Added to each eviction's answer: the admission and etcd write a real API server does (benchmarks). */
  evictionLatencyMs?: number;
}

/**
 * An extra route (test/doubles/kube-workloads.ts adds lists, /readyz, apps/v1 and policy/v1): tried
 * before the built-in ones; undefined passes the request on. A string answer is sent as text/plain.
 */
export type Route = (r: { method: string; url: URL; user: string; body: unknown }) => [number, Obj | string] | undefined;

/** Decides for a user of `tokens` (rules of their own, API group aware); true allows. */
export type Authorizer = (verb: string, group: string, resource: string, name: string | undefined) => boolean;

export const SA_TOKEN = 'guestlink-sa-token';
export const SA_USER = 'system:serviceaccount:guestlink:guestlink';
export const ADMIN_TOKEN = 'admin-token';

/** Who the API server's own bearer tokens belong to. */
const API_USERS: Record<string, UserInfo> = {
  [SA_TOKEN]: { user: SA_USER, groups: ['system:serviceaccounts', 'system:serviceaccounts:guestlink', 'system:authenticated'] },
  [ADMIN_TOKEN]: { user: 'admin', groups: ['system:masters', 'system:authenticated'] },
};

function mergePatch(target: Obj, patch: Obj): Obj {
  for (const [k, v] of Object.entries(patch)) {
    if (v === null) delete target[k];
    else if (typeof v === 'object' && !Array.isArray(v))
      target[k] = mergePatch(typeof target[k] === 'object' && target[k] ? target[k] : {}, v);
    else target[k] = v;
  }
  return target;
}

/** A metav1.Status as the API server sends with errors. */
export function status(code: number, reason: string, message: string, details?: Obj): Obj {
  return {
    kind: 'Status',
    apiVersion: 'v1',
    metadata: {},
    status: code < 300 ? 'Success' : 'Failure',
    message,
    reason,
    ...(details ? { details } : {}),
    code,
  };
}

export class KubeApiDouble {
  readonly nodes = new Map<string, Obj>();
  /** Pods by "namespace/name". */
  readonly pods = new Map<string, Obj>();
  readonly pdbs: Obj[] = [];
  readonly events: Obj[] = [];
  readonly requests: RequestRecord[] = [];
  /** While true, requests are accepted and never answered (an API server that hangs). */
  hang = false;
  /** More bearer tokens: token -> user name (their rules in `authorizers`). */
  readonly tokens = new Map<string, string>();
  /** Per-user authorization for the users of `tokens`; a user without one gets the service account's rules. */
  readonly authorizers = new Map<string, Authorizer>();
  /** Extra routes, tried first (see Route). */
  readonly routes: Route[] = [];
  url = '';
  ca: string | undefined;
  terminationMs: number;
  readyMs: number;
  private server: http.Server | undefined;
  private readonly timers = new Set<NodeJS.Timeout>();
  private readonly hung = new Set<http.ServerResponse>();
  readonly rbac: Rbac;
  /** The cluster CA (always; served over TLS only with `tls`). */
  readonly clusterCa: ClusterCa;
  /** CSRs, the signer, TokenReview and SubjectAccessReview. */
  readonly certificates: CertificatesDouble;
  private rv = 1;
  private nextNode = 0;

  constructor(private readonly opts: DoubleOptions = {}) {
    this.terminationMs = opts.terminationMs ?? 20;
    this.readyMs = opts.readyMs ?? 50;
    this.rbac = Rbac.fromFiles([opts.rbacFile ?? RBAC_FILE, ...(opts.extraRbacFiles ?? [])]);
    this.clusterCa = new ClusterCa();
    this.certificates = new CertificatesDouble(
      this.clusterCa,
      this.rbac,
      () => this.rv++,
      (ms, f) => this.later(ms, f),
      opts.signer,
    );
  }

  async start(): Promise<this> {
    const handler = (req: http.IncomingMessage, res: http.ServerResponse) => this.handle(req, res);
    if (this.opts.tls) {
      const { cert, key } = this.clusterCa.issue('apiserver', '/CN=kube-apiserver', 'serving', 'IP:127.0.0.1,DNS:localhost');
      this.ca = this.clusterCa.cert;
      // Client certificates are asked for, not required: bearer tokens work too, as on a real API server.
      this.server = https.createServer({ cert, key, ca: this.clusterCa.cert, requestCert: true, rejectUnauthorized: false }, handler);
    } else this.server = http.createServer(handler);
    await new Promise<void>((r) => this.server?.listen(0, '127.0.0.1', r));
    const { port } = this.server.address() as AddressInfo;
    this.url = `${this.opts.tls ? 'https' : 'http'}://127.0.0.1:${port}`;
    return this;
  }

  async stop(): Promise<void> {
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
    for (const r of this.hung) r.destroy();
    this.hung.clear();
    this.certificates.endWatches();
    this.clusterCa.remove();
    const s = this.server;
    if (!s) return;
    s.closeAllConnections();
    await new Promise<void>((r) => s.close(() => r()));
    this.server = undefined;
  }

  // ---- cluster state -------------------------------------------------------------------------

  addNode(
    name: string,
    o: {
      ready?: boolean;
      unschedulable?: boolean;
      annotations?: Record<string, string>;
      heartbeat?: string;
      /** status.addresses: an address alone is an InternalIP; e.g. '127.0.0.1' or {type: 'ExternalIP', address: '192.0.2.1'}. */
      addresses?: (string | { type: string; address: string })[];
      labels?: Record<string, string>;
      /** Labelled node-role.kubernetes.io/control-plane, as kubeadm, k3s and Talos label them. */
      controlPlane?: boolean;
      /** status.nodeInfo.bootID (default: a random one, as a kubelet reads /proc/sys/kernel/random/boot_id). */
      bootId?: string;
    } = {},
  ): Obj {
    const node = {
      apiVersion: 'v1',
      kind: 'Node',
      metadata: {
        name,
        uid: randomUUID(),
        resourceVersion: String(this.rv++),
        annotations: { ...o.annotations },
        labels: {
          'kubernetes.io/hostname': name,
          ...(o.controlPlane ? { 'node-role.kubernetes.io/control-plane': '' } : {}),
          ...o.labels,
        },
      },
      spec: o.unschedulable ? { unschedulable: true } : {},
      status: {
        conditions: [
          {
            type: 'Ready',
            status: o.ready === false ? 'False' : 'True',
            lastHeartbeatTime: o.heartbeat ?? new Date().toISOString(),
            reason: 'KubeletReady',
          },
        ],
        addresses: [
          ...(o.addresses ?? []).map((a) => (typeof a === 'string' ? { type: 'InternalIP', address: a } : a)),
          { type: 'Hostname', address: name },
        ],
        nodeInfo: {
          bootID: o.bootId ?? randomUUID(),
          machineID: randomUUID().replace(/-/g, ''),
          operatingSystem: 'linux',
          architecture: 'amd64',
        },
      },
    };
    this.nodes.set(name, node);
    return node;
  }

  /** The kubelet reporting (Ready or not) with a fresh heartbeat. */
  setNodeReady(name: string, ready: boolean): void {
    const n = this.nodes.get(name);
    if (!n) return;
    n.status.conditions = [
      { type: 'Ready', status: ready ? 'True' : 'False', lastHeartbeatTime: new Date().toISOString(), reason: 'KubeletReady' },
    ];
    n.metadata.resourceVersion = String(this.rv++);
  }

  /** The kubelet of a new boot reporting its boot id (status.nodeInfo.bootID). */
  setBootId(name: string, bootId: string): void {
    const n = this.nodes.get(name);
    if (!n) return;
    n.status.nodeInfo = { ...n.status.nodeInfo, bootID: bootId };
    n.metadata.resourceVersion = String(this.rv++);
  }

  addPod(p: PodSpec): Obj {
    const ns = p.namespace ?? 'default';
    const ready = p.ready ?? (p.phase ?? 'Running') === 'Running';
    const pod: Obj = {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: {
        name: p.name,
        namespace: ns,
        uid: randomUUID(),
        resourceVersion: String(this.rv++),
        labels: { ...p.labels },
        annotations: p.mirror ? { 'kubernetes.io/config.mirror': randomUUID().replace(/-/g, '') } : {},
        ...(p.owner
          ? {
              ownerReferences: [
                { apiVersion: 'apps/v1', kind: p.owner.kind, name: p.owner.name, uid: `uid-${p.owner.name}`, controller: true },
              ],
            }
          : {}),
      },
      spec: { nodeName: p.node, containers: [{ name: 'c', image: 'registry.k8s.io/pause:3.10' }] },
      status: { phase: p.phase ?? 'Running', conditions: [{ type: 'Ready', status: ready ? 'True' : 'False' }] },
    };
    if (p.terminationMs !== undefined) pod.metadata.annotations['double/termination-ms'] = String(p.terminationMs);
    this.pods.set(`${ns}/${p.name}`, pod);
    return pod;
  }

  addPdb(p: PdbSpec): void {
    const ns = p.namespace ?? 'default';
    // maxUnavailable counts against the pods the budget selects when it is created (the controllers' scale).
    const expected = [...this.pods.values()].filter((x) => x.metadata.namespace === ns && this.matches(x, p.matchLabels)).length;
    this.pdbs.push({ ...p, namespace: ns, expected });
  }

  podsOn(node: string): Obj[] {
    return [...this.pods.values()].filter((p) => p.spec.nodeName === node);
  }

  evictions(): RequestRecord[] {
    return this.requests.filter((r) => r.method === 'POST' && r.path.endsWith('/eviction'));
  }

  private later(ms: number, f: () => void): void {
    const t = setTimeout(() => {
      this.timers.delete(t);
      f();
    }, ms);
    this.timers.add(t);
  }

  matches(pod: Obj, labels: Record<string, string>): boolean {
    return Object.entries(labels).every(([k, v]) => pod.metadata.labels?.[k] === v);
  }

  ready(pod: Obj): boolean {
    return !pod.metadata.deletionTimestamp && pod.status.conditions?.some((c: Obj) => c.type === 'Ready' && c.status === 'True');
  }

  /** A schedulable, Ready node other than `except`, round-robin; undefined when there is none. */
  private schedule(except: string): string | undefined {
    const candidates = [...this.nodes.values()].filter(
      (n) =>
        n.metadata.name !== except &&
        !n.spec.unschedulable &&
        n.status.conditions.some((c: Obj) => c.type === 'Ready' && c.status === 'True'),
    );
    if (candidates.length === 0) return undefined;
    return candidates[this.nextNode++ % candidates.length]?.metadata.name;
  }

  private replace(old: Obj, name: string): void {
    const node = this.schedule(old.spec.nodeName);
    const pod = this.addPod({
      name,
      namespace: old.metadata.namespace,
      node: node ?? '',
      owner: { kind: old.metadata.ownerReferences[0].kind, name: old.metadata.ownerReferences[0].name },
      labels: old.metadata.labels,
      ready: false,
      phase: node ? 'Running' : 'Pending',
    });
    if (!node) return;
    this.later(this.readyMs, () => {
      pod.status.conditions = [{ type: 'Ready', status: 'True' }];
    });
  }

  /** What the API server and the controllers do after an accepted eviction. */
  private terminate(pod: Obj): void {
    const key = `${pod.metadata.namespace}/${pod.metadata.name}`;
    pod.metadata.deletionTimestamp = new Date().toISOString();
    pod.status.conditions = [{ type: 'Ready', status: 'False' }];
    const owner = pod.metadata.ownerReferences?.[0]?.kind;
    if (owner === 'ReplicaSet') this.replace(pod, `${pod.metadata.ownerReferences[0].name}-${randomUUID().slice(0, 5)}`);
    const ms = Number(pod.metadata.annotations?.['double/termination-ms'] ?? this.terminationMs);
    const terminal = pod.status.phase === 'Succeeded' || pod.status.phase === 'Failed';
    this.later(terminal ? 0 : ms, () => {
      if (this.pods.get(key) !== pod) return;
      this.pods.delete(key);
      if (owner === 'StatefulSet') this.replace(pod, pod.metadata.name);
    });
  }

  // ---- HTTP ----------------------------------------------------------------------------------

  private handle(req: http.IncomingMessage, res: http.ServerResponse): void {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      if (this.hang) {
        this.hung.add(res);
        return;
      }
      const url = new URL(req.url ?? '/', 'http://double');
      const text = Buffer.concat(chunks).toString('utf8');
      let body: unknown;
      try {
        body = text ? JSON.parse(text) : undefined;
      } catch {
        return this.reply(req, res, url, 'anonymous', 400, status(400, 'BadRequest', 'the request body is not JSON'));
      }
      const token = /^Bearer (.+)$/.exec(req.headers.authorization ?? '')?.[1];
      const extra = token ? this.tokens.get(token) : undefined;
      const who = token
        ? (API_USERS[token] ?? (extra ? { user: extra, groups: ['system:authenticated'] } : undefined))
        : this.certificateUser(req);
      if (!who) return this.reply(req, res, url, 'anonymous', 401, status(401, 'Unauthorized', 'Unauthorized'), body);
      const user = who.user;
      if (CertificatesDouble.handles(url.pathname)) return this.routeApis(req, res, url, who, body);
      const method = req.method ?? 'GET';
      let answer: [number, Obj | string] | undefined;
      for (const r of this.routes) if ((answer = r({ method, url, user, body }))) break;
      const [code, out] = answer ?? this.route(method, url, who, String(req.headers['content-type'] ?? ''), body);
      const delay = url.pathname.endsWith('/eviction') ? (this.opts.evictionLatencyMs ?? 0) : 0;
      if (delay > 0) this.later(delay, () => this.reply(req, res, url, user, code, out, body));
      else this.reply(req, res, url, user, code, out, body);
    });
  }

  private reply(
    req: http.IncomingMessage,
    res: http.ServerResponse,
    url: URL,
    user: string,
    code: number,
    out: Obj | string,
    body?: unknown,
  ): void {
    const rec: RequestRecord = { method: req.method ?? '', path: url.pathname + url.search, status: code, user, at: Date.now() };
    if (req.headers['content-type']) rec.contentType = req.headers['content-type'];
    if (body !== undefined) rec.body = body;
    this.requests.push(rec);
    const data = typeof out === 'string' ? out : JSON.stringify(out);
    const type = typeof out === 'string' ? 'text/plain; charset=utf-8' : 'application/json';
    res.writeHead(code, { 'content-type': type, 'content-length': Buffer.byteLength(data) });
    res.end(data);
  }

  /** A client certificate from the cluster CA authenticates as the API server does: CN the user, O the groups. */
  private certificateUser(req: http.IncomingMessage): UserInfo | undefined {
    const sock = req.socket as import('node:tls').TLSSocket;
    if (!sock.authorized || typeof sock.getPeerCertificate !== 'function') return undefined;
    const subject = sock.getPeerCertificate().subject;
    const list = (v: string | string[] | undefined) => (v === undefined ? [] : Array.isArray(v) ? v : [v]);
    const user = list(subject?.CN)[0];
    return user ? { user, groups: [...list(subject?.O), 'system:authenticated'] } : undefined;
  }

  /** undefined when allowed, else the API server's 403 Status. `group`: the API group ("" for core). */
  authorize(
    user: string,
    verb: string,
    resource: string,
    namespace: string | undefined,
    name: string | undefined,
    group = '',
  ): Obj | undefined {
    if (user === 'admin') return undefined;
    const own = this.authorizers.get(user);
    if (own) {
      if (own(verb, group, resource, name)) return undefined;
    } else {
      // Everyone else by the RBAC table, as the identity the API server knows them by.
      const who = Object.values(API_USERS).find((u) => u.user === user) ?? { user, groups: ['system:authenticated'] };
      if (this.rbac.allows(who, { verb, apiGroup: group, resource, name, namespace })) return undefined;
    }
    const [res, sub] = resource.split('/');
    const what = `${res}${name ? ` "${name}"` : ''}`;
    return status(
      403,
      'Forbidden',
      `${what} is forbidden: User "${user}" cannot ${verb} resource "${res}"${sub ? `/${sub}` : ''} in API group "${group}" ${namespace ? `in the namespace "${namespace}"` : 'at the cluster scope'}`,
    );
  }

  /** The verb RBAC checks for an HTTP method (GET on a collection is list, or watch with ?watch=true). */
  private static verb(method: string, url: URL, name: string | undefined): string {
    if (method === 'GET') return name ? 'get' : url.searchParams.get('watch') === 'true' ? 'watch' : 'list';
    return { PATCH: 'patch', POST: 'create', DELETE: 'delete', PUT: 'update' }[method] ?? method.toLowerCase();
  }

  private authorizeRequest(who: UserInfo, a: Attributes): Obj | undefined {
    // A user of `tokens` with rules of their own (`authorizers`) is decided by them, as in authorize().
    const own = this.authorizers.get(who.user);
    if (own) return own(a.verb, a.apiGroup, a.resource, a.name) ? undefined : status(403, 'Forbidden', Rbac.forbidden(who, a));
    if (who.user === 'admin' || this.rbac.allows(who, a)) return undefined;
    return status(403, 'Forbidden', Rbac.forbidden(who, a));
  }

  /** /apis/certificates.k8s.io, authentication.k8s.io, authorization.k8s.io (kube-certificates.ts). */
  private routeApis(req: http.IncomingMessage, res: http.ServerResponse, url: URL, who: UserInfo, body: unknown): void {
    const p = url.pathname.split('/').filter(Boolean).map(decodeURIComponent);
    const [, apiGroup = '', , resource = '', name, sub] = p;
    const method = req.method ?? 'GET';
    const denied = this.authorizeRequest(who, {
      verb: KubeApiDouble.verb(method, url, name),
      apiGroup,
      resource: sub ? `${resource}/${sub}` : resource,
      name,
    });
    if (denied) return this.reply(req, res, url, who.user, 403, denied, body);
    if (this.certificates.watch(url, res)) {
      this.requests.push({ method, path: url.pathname + url.search, status: 200, user: who.user, at: Date.now() });
      return;
    }
    const answer = this.certificates.route(method, url, who, body);
    if (answer === 'hang') {
      this.hung.add(res);
      return;
    }
    this.reply(req, res, url, who.user, answer[0], answer[1], body);
  }

  private route(method: string, url: URL, who: UserInfo, contentType: string, body: any): [number, Obj] {
    const p = url.pathname.split('/').filter(Boolean).map(decodeURIComponent);
    if (p[0] !== 'api' || p[1] !== 'v1') return [404, status(404, 'NotFound', 'the server could not find the requested resource')];
    const rest = p.slice(2);
    let namespace: string | undefined;
    if (rest[0] === 'namespaces' && rest.length >= 3) {
      namespace = rest[1];
      rest.splice(0, 2);
    }
    const [resource, name, sub] = rest as [string, string | undefined, string | undefined];
    const full = sub ? `${resource}/${sub}` : resource;
    const denied = this.authorizeRequest(who, {
      verb: KubeApiDouble.verb(method, url, name),
      apiGroup: '',
      resource: full,
      name,
      namespace,
    });
    if (denied) return [403, denied];

    if (resource === 'nodes' && name && !sub && !namespace) {
      const node = this.nodes.get(name);
      if (!node) return [404, status(404, 'NotFound', `nodes "${name}" not found`)];
      if (method === 'GET') return [200, node];
      if (method === 'PATCH') {
        if (!/^application\/(strategic-merge-patch|merge-patch)\+json/.test(contentType))
          return [
            415,
            status(
              415,
              'UnsupportedMediaType',
              `the body of the request was in an unknown format - accepted media types include: application/merge-patch+json, application/strategic-merge-patch+json`,
            ),
          ];
        const rv = body?.metadata?.resourceVersion;
        if (rv !== undefined && rv !== node.metadata.resourceVersion)
          return [
            409,
            status(
              409,
              'Conflict',
              `Operation cannot be fulfilled on nodes "${name}": the object has been modified; please apply your changes to the latest version and try again`,
            ),
          ];
        const patch = structuredClone(body ?? {});
        if (patch.metadata) delete patch.metadata.resourceVersion;
        mergePatch(node, patch);
        node.metadata.resourceVersion = String(this.rv++);
        return [200, node];
      }
    }
    if (resource === 'nodes' && !name && method === 'GET' && !namespace) {
      // Label selectors as kubectl -l writes them: key, !key, key=value, key==value, key!=value, comma-separated.
      const terms = (url.searchParams.get('labelSelector') ?? '').split(',').filter(Boolean);
      const matches = (labels: Record<string, string>) =>
        terms.every((t) => {
          const m = /^(!?)([^=!]+)(?:(==?|!=)(.*))?$/.exec(t.trim());
          if (!m) return false;
          const [, not, key = '', op, value] = m;
          if (!op) return not ? !(key in labels) : key in labels;
          return op === '!=' ? labels[key] !== value : labels[key] === value;
        });
      const items = [...this.nodes.values()].filter((n) => matches(n.metadata.labels ?? {}));
      return [200, { kind: 'NodeList', apiVersion: 'v1', metadata: { resourceVersion: String(this.rv) }, items }];
    }
    if (resource === 'pods' && !name && method === 'GET') {
      let items = [...this.pods.values()].filter((x) => !namespace || x.metadata.namespace === namespace);
      const selector = url.searchParams.get('fieldSelector');
      if (selector) {
        const m = /^spec\.nodeName==?(.*)$/.exec(selector);
        if (!m)
          return [
            400,
            status(
              400,
              'BadRequest',
              `"${selector.split('=')[0]}" is not a known field selector: only "spec.nodeName" is supported by this double`,
            ),
          ];
        items = items.filter((x) => x.spec.nodeName === m[1]);
      }
      const limit = Number(url.searchParams.get('limit') ?? 0);
      const start = Number(url.searchParams.get('continue') ?? 0);
      const page = limit > 0 ? items.slice(start, start + limit) : items.slice(start);
      const more = limit > 0 && start + limit < items.length;
      return [
        200,
        {
          kind: 'PodList',
          apiVersion: 'v1',
          metadata: { resourceVersion: String(this.rv), ...(more ? { continue: String(start + limit) } : {}) },
          items: page,
        },
      ];
    }
    if (resource === 'pods' && name && sub === 'eviction' && method === 'POST' && namespace) return this.evict(namespace, name, body);
    if (resource === 'events' && !name && method === 'POST' && namespace) {
      if (!body?.metadata?.name || !body?.involvedObject?.kind)
        return [422, status(422, 'Invalid', 'Event is invalid: metadata.name and involvedObject are required')];
      if (this.events.some((e) => e.metadata.namespace === namespace && e.metadata.name === body.metadata.name))
        return [409, status(409, 'AlreadyExists', `events "${body.metadata.name}" already exists`)];
      const ev = { ...body, metadata: { ...body.metadata, namespace, uid: randomUUID() } };
      this.events.push(ev);
      return [201, ev];
    }
    return [404, status(404, 'NotFound', 'the server could not find the requested resource')];
  }

  private evict(namespace: string, name: string, body: any): [number, Obj] {
    if (body?.kind !== 'Eviction' || body?.apiVersion !== 'policy/v1')
      return [400, status(400, 'BadRequest', 'expected a policy/v1 Eviction')];
    const pod = this.pods.get(`${namespace}/${name}`);
    if (!pod) return [404, status(404, 'NotFound', `pods "${name}" not found`)];
    const uid = body.deleteOptions?.preconditions?.uid;
    if (uid && uid !== pod.metadata.uid)
      return [
        409,
        status(
          409,
          'Conflict',
          `Operation cannot be fulfilled on pods "${name}": Precondition failed: UID in precondition: ${uid}, UID in object meta: ${pod.metadata.uid}`,
        ),
      ];
    const ok = (): [number, Obj] => {
      this.terminate(pod);
      return [201, status(201, '', '')];
    };
    if (pod.metadata.deletionTimestamp) return [201, status(201, '', '')];
    if (pod.status.phase === 'Succeeded' || pod.status.phase === 'Failed') return ok();
    const budgets = this.pdbs.filter((b) => b.namespace === namespace && this.matches(pod, b.matchLabels));
    if (budgets.length > 1)
      return [
        500,
        status(500, 'InternalError', 'This pod has more than one PodDisruptionBudget, which the eviction subresource does not support.'),
      ];
    const b = budgets[0];
    if (!b) return ok();
    const selected = [...this.pods.values()].filter((x) => x.metadata.namespace === namespace && this.matches(x, b.matchLabels));
    const healthy = selected.filter((x) => this.ready(x)).length;
    const desired = b.minAvailable ?? Math.max(0, b.expected - (b.maxUnavailable ?? 0));
    // An unready pod costs the budget nothing when it is met already (IfHealthyBudget).
    if (!this.ready(pod) && healthy >= desired) return ok();
    if (healthy - desired >= 1) return ok();
    return [
      429,
      status(429, 'TooManyRequests', "Cannot evict pod as it would violate the pod's disruption budget.", {
        causes: [
          {
            reason: 'DisruptionBudget',
            message: `The disruption budget ${b.name} needs ${desired} healthy pods and has ${healthy} currently`,
          },
        ],
      }),
    ];
  }
}

/**
 * Writes nothing: a kubeconfig text pointing at the double, as the service account (its token) by
 * default, or as a user with a client certificate from the double's CA (what kubectl users have).
 */
export function kubeconfigFor(d: KubeApiDouble, user: string | { cert: string; key: string } = SA_TOKEN, context = 'double'): string {
  const b64 = (s: string) => Buffer.from(s).toString('base64');
  const cluster = d.ca ? `      certificate-authority-data: ${b64(d.ca)}\n` : '';
  const creds =
    typeof user === 'string'
      ? `      token: ${user}\n`
      : `      client-certificate-data: ${b64(user.cert)}\n      client-key-data: ${b64(user.key)}\n`;
  return `apiVersion: v1
kind: Config
clusters:
  - name: double
    cluster:
      server: ${d.url}
${cluster}contexts:
  - name: ${context}
    context:
      cluster: double
      user: guestlink
current-context: ${context}
users:
  - name: guestlink
    user:
${creds}`;
}
