// The Kubernetes side of node:// and tls:// addresses, with the user's own kubeconfig: the client
// certificate, key and CA for the management endpoint, the Node objects (one node, all of them, or
// those a label selector picks) and their addresses. It reuses the agent's small kubeconfig reader
// and REST client (kube/kubeconfig.ts, kube/rest.ts), loaded only when such an address is used.
import type { NodeObject } from '../../kube/api.js';
import type { Connection } from '../../kube/rest.js';
import { AddressError, AgentUnreachableError } from '../errors.js';
import { DEFAULT_ENDPOINT_PORT, type EndpointCredentials, type EndpointTarget } from './tls.js';

export interface KubeAccess {
  /** Kubeconfig path or KUBECONFIG-style list (--kubeconfig, else $KUBECONFIG, else ~/.kube/config). */
  kubeconfig: string;
  /** --context; absent: the kubeconfig's current context. */
  context?: string;
  /** GUESTLINK_TOKEN: a bearer token minted for the endpoint's audience. */
  token?: string;
  /** --ca: the CA that signed the endpoints' serving certificates, when it is not the cluster CA. */
  ca?: Buffer;
}

const CALL_MS = 10_000;

/** A node's address to reach it at: InternalIP first (what the kubelet serves on), then ExternalIP, then Hostname. */
export function nodeAddress(n: NodeObject): string | undefined {
  const addrs = n.status?.addresses ?? [];
  for (const type of ['InternalIP', 'ExternalIP', 'Hostname']) {
    const a = addrs.find((x) => x.type === type)?.address;
    if (a) return a;
  }
  return undefined;
}

export class KubeNodes {
  private loading: Promise<Connection> | undefined;
  private rest: import('../../kube/rest.js').RestClient | undefined;
  private readonly known = new Map<string, NodeObject>();

  constructor(private readonly access: KubeAccess) {}

  private connection(): Promise<Connection> {
    this.loading ??= import('../../kube/kubeconfig.js').then(async ({ loadKubeconfig }) => {
      try {
        const { context: _c, ...conn } = await loadKubeconfig(
          this.access.kubeconfig,
          this.access.context === undefined ? {} : { context: this.access.context },
        );
        return conn;
      } catch (err) {
        throw new AddressError(`${(err as Error).message} (node:// and tls:// addresses use it; --kubeconfig, --context)`);
      }
    });
    return this.loading;
  }

  /** The client certificate and key of the kubeconfig's user, and the CA to trust (--ca, else the cluster's). */
  async credentials(): Promise<EndpointCredentials> {
    const { token, ca } = this.access;
    let conn: Connection | undefined;
    try {
      conn = await this.connection();
    } catch (err) {
      // A token and a CA are enough for tls://; without them the kubeconfig is needed.
      if (!(token && ca)) throw err;
    }
    const out: EndpointCredentials = {};
    const trust = ca ?? conn?.ca;
    if (trust) out.ca = trust;
    if (conn?.cert && conn.key) {
      out.cert = conn.cert;
      out.key = conn.key;
    }
    if (token) out.token = token;
    if (!out.cert && !out.token)
      throw new AddressError(
        "the kubeconfig's user has no client certificate: the management endpoint needs one, or a token for its audience in GUESTLINK_TOKEN (kubectl create token NAME --audience guestlink)",
      );
    return out;
  }

  private async client() {
    if (!this.rest) {
      const conn = await this.connection();
      const { RestClient } = await import('../../kube/rest.js');
      this.rest = new RestClient(conn);
    }
    return this.rest;
  }

  /** One Node (cached once read or listed). */
  async node(name: string): Promise<NodeObject> {
    const cached = this.known.get(name);
    if (cached) return cached;
    const rest = await this.client();
    try {
      const n = await rest.call<NodeObject>('GET', `/api/v1/nodes/${encodeURIComponent(name)}`, { timeoutMs: CALL_MS });
      this.known.set(name, n);
      return n;
    } catch (err) {
      throw new AgentUnreachableError(`node://${name}: cannot read the Node object: ${(err as Error).message}`);
    }
  }

  /** Names of all nodes, or of those `selector` (a label selector, as kubectl -l) picks. */
  async list(selector?: string): Promise<string[]> {
    const rest = await this.client();
    const q = selector ? `?${new URLSearchParams({ labelSelector: selector })}` : '';
    let items: NodeObject[];
    try {
      items = (await rest.call<{ items?: NodeObject[] }>('GET', `/api/v1/nodes${q}`, { timeoutMs: CALL_MS })).items ?? [];
    } catch (err) {
      throw new AgentUnreachableError(`cannot list the nodes${selector ? ` (${selector})` : ''}: ${(err as Error).message}`);
    }
    for (const n of items) this.known.set(n.metadata.name, n);
    return items.map((n) => n.metadata.name);
  }

  /** Where node://NAME is, and that its certificate must be that node's. */
  async target(name: string, port = DEFAULT_ENDPOINT_PORT): Promise<EndpointTarget> {
    const address = nodeAddress(await this.node(name));
    if (!address) throw new AgentUnreachableError(`node://${name}: the Node object lists no address`);
    return { host: address, port, servername: name, node: name };
  }

  close(): void {
    this.rest?.close();
  }
}
