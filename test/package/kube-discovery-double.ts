// A double of the Kubernetes API server's discovery endpoints, for `kubectl apply --dry-run=client`.
// kubectl cannot dry-run without a server: it maps each kind to a resource through discovery
// (/api, /apis, /api/v1, /apis/GROUP/VERSION: legacy APIResourceList documents, which kubectl falls
// back to when the reply is not the aggregated discovery type), and it GETs each object to choose
// between create and patch. This double serves discovery for the kinds guestlink's manifests use,
// answers 404 NotFound (a metav1.Status) for every object, and records every request, so a test can
// also show that a client dry run writes nothing.
import http from 'node:http';
import type { AddressInfo } from 'node:net';

interface Resource {
  name: string;
  kind: string;
  namespaced: boolean;
}

const VERBS = ['create', 'delete', 'get', 'list', 'patch', 'update', 'watch'];

/** group ('' = core) -> version -> resources. */
const DISCOVERY: Record<string, Record<string, Resource[]>> = {
  '': {
    v1: [
      { name: 'namespaces', kind: 'Namespace', namespaced: false },
      { name: 'serviceaccounts', kind: 'ServiceAccount', namespaced: true },
      { name: 'secrets', kind: 'Secret', namespaced: true },
      { name: 'configmaps', kind: 'ConfigMap', namespaced: true },
      { name: 'pods', kind: 'Pod', namespaced: true },
      { name: 'nodes', kind: 'Node', namespaced: false },
    ],
  },
  apps: { v1: [{ name: 'daemonsets', kind: 'DaemonSet', namespaced: true }] },
  'rbac.authorization.k8s.io': {
    v1: [
      { name: 'clusterroles', kind: 'ClusterRole', namespaced: false },
      { name: 'clusterrolebindings', kind: 'ClusterRoleBinding', namespaced: false },
      { name: 'roles', kind: 'Role', namespaced: true },
      { name: 'rolebindings', kind: 'RoleBinding', namespaced: true },
    ],
  },
  'admissionregistration.k8s.io': {
    v1: [
      { name: 'validatingadmissionpolicies', kind: 'ValidatingAdmissionPolicy', namespaced: false },
      { name: 'validatingadmissionpolicybindings', kind: 'ValidatingAdmissionPolicyBinding', namespaced: false },
    ],
  },
  // The CRD Talos installs when kubernetesTalosAPIAccess is enabled.
  'talos.dev': { v1alpha1: [{ name: 'serviceaccounts', kind: 'ServiceAccount', namespaced: true }] },
};

function resourceList(groupVersion: string, resources: Resource[]) {
  return {
    kind: 'APIResourceList',
    apiVersion: 'v1',
    groupVersion,
    resources: resources.map((r) => ({ ...r, singularName: r.kind.toLowerCase(), verbs: VERBS })),
  };
}

export interface DiscoveryDouble {
  url: string;
  /** "METHOD path" of every request, in order. */
  requests: string[];
  close(): Promise<void>;
}

export async function startDiscoveryDouble(): Promise<DiscoveryDouble> {
  const requests: string[] = [];
  const server = http.createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://x');
    requests.push(`${req.method} ${url.pathname}`);
    const json = (status: number, body: unknown) => {
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end(JSON.stringify(body));
    };
    const p = url.pathname.replace(/\/$/, '');
    if (req.method === 'GET' && p === '/version') return json(200, { major: '1', minor: '32', gitVersion: 'v1.32.0' });
    if (req.method === 'GET' && p === '/api') return json(200, { kind: 'APIVersions', versions: ['v1'], serverAddressByClientCIDRs: [] });
    if (req.method === 'GET' && p === '/apis') {
      const groups = Object.entries(DISCOVERY)
        .filter(([g]) => g !== '')
        .map(([name, versions]) => {
          const vs = Object.keys(versions).map((v) => ({ groupVersion: `${name}/${v}`, version: v }));
          return { name, versions: vs, preferredVersion: vs[0] };
        });
      return json(200, { kind: 'APIGroupList', apiVersion: 'v1', groups });
    }
    if (req.method === 'GET' && p === '/api/v1') return json(200, resourceList('v1', DISCOVERY['']?.v1 ?? []));
    const m = /^\/apis\/([^/]+)\/([^/]+)$/.exec(p);
    const list = m?.[1] && m[2] ? DISCOVERY[m[1]]?.[m[2]] : undefined;
    if (req.method === 'GET' && m && list) return json(200, resourceList(`${m[1]}/${m[2]}`, list));
    return json(404, {
      kind: 'Status',
      apiVersion: 'v1',
      metadata: {},
      status: 'Failure',
      message: `${p} not found`,
      reason: 'NotFound',
      code: 404,
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
