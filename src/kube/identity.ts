// Who the agent is to the API server and which Node it runs on: a pod's service account (token,
// ca.crt, the kubelet's KUBERNETES_SERVICE_* address, NODE_NAME from the downward API) or a host
// process's kubeconfig (node name from --node-name, else the host name, as the kubelet defaults).
import { readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { type KubeSettings, SERVICE_ACCOUNT_DIR } from './detect.js';
import { KubeError } from './errors.js';
import { loadKubeconfig, rereadingToken } from './kubeconfig.js';
import type { Connection } from './rest.js';

export interface Identity {
  conn: Connection;
  nodeName: string;
  /** For logs: "in-cluster" or "kubeconfig <path> (context x)". */
  source: string;
}

/** Builds the identity for a mode detectKubeMode chose; throws KUBE_CONFIG with the reason. */
export async function resolveIdentity(mode: 'in-cluster' | 'kubeconfig', s: KubeSettings): Promise<Identity> {
  // The kubelet registers the Node under the lower-cased host name unless told otherwise.
  const nodeName = s.nodeName || os.hostname().toLowerCase();
  if (mode === 'kubeconfig') {
    const file = s.kubeconfig ?? s.kubeconfigEnv;
    if (!file) throw new KubeError('KUBE_CONFIG', '--kube kubeconfig needs --kubeconfig PATH (or KUBECONFIG)');
    const { context, ...conn } = await loadKubeconfig(file);
    return { conn, nodeName, source: `kubeconfig ${file} (context ${context})` };
  }
  const dir = s.serviceAccountDir ?? SERVICE_ACCOUNT_DIR;
  if (!s.serviceAddress)
    throw new KubeError(
      'KUBE_CONFIG',
      'in-cluster mode needs KUBERNETES_SERVICE_HOST and KUBERNETES_SERVICE_PORT (set by the kubelet in a pod)',
    );
  let ca: Buffer;
  try {
    ca = readFileSync(path.join(dir, 'ca.crt'));
  } catch (err) {
    throw new KubeError('KUBE_CONFIG', `in-cluster mode: cannot read ${path.join(dir, 'ca.crt')}: ${(err as Error).message}`);
  }
  const token = rereadingToken(path.join(dir, 'token'));
  token();
  if (!s.nodeName)
    throw new KubeError(
      'KUBE_CONFIG',
      'in-cluster mode needs the node name: set NODE_NAME from the downward API (spec.nodeName) or --node-name',
    );
  return { conn: { server: `https://${s.serviceAddress}`, ca, token }, nodeName, source: 'in-cluster service account' };
}
