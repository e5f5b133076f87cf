// The rollout's API client from the user's kubeconfig (current context, or --context): token, tokenFile, client
// certificates and exec plugins (exec-credential.ts); auth-provider plugins (removed from
// kubectl in 1.26) are refused with the reason.
import { KubeError } from '../../kube/errors.js';
import { loadKubeconfig } from '../../kube/kubeconfig.js';
import { RestClient } from '../../kube/rest.js';
import { Cluster } from './cluster.js';
import { RolloutError } from './errors.js';
import { execCredentials } from './exec-credential.js';

/** The client and what the kubeconfig said (for messages and the state file). */
export interface ClusterConnection {
  cluster: Cluster;
  context: string;
  server: string;
}

/** Reads the kubeconfig (a KUBECONFIG-style list) and builds the client; ROLLOUT_API when it cannot. */
export async function connectCluster(
  kubeconfig: string,
  env: Readonly<Record<string, string | undefined>>,
  stdinIsTty: boolean,
  contextName?: string,
): Promise<ClusterConnection> {
  try {
    const exec = execCredentials(env, stdinIsTty);
    const { context, ...conn } = await loadKubeconfig(kubeconfig, contextName === undefined ? { exec } : { exec, context: contextName });
    return { cluster: new Cluster(new RestClient(conn)), context, server: conn.server };
  } catch (err) {
    if (err instanceof KubeError) throw new RolloutError('ROLLOUT_API', err.message);
    throw err;
  }
}
