// Decides whether the Kubernetes lifecycle runs at all, without loading any of it: `--kube auto`
// with no cluster in sight must cost nothing but this module.
import { existsSync } from 'node:fs';
import path from 'node:path';

export type KubeMode = 'auto' | 'off' | 'in-cluster' | 'kubeconfig';

/** The service account's files in a pod (token, ca.crt, namespace). */
export const SERVICE_ACCOUNT_DIR = '/var/run/secrets/kubernetes.io/serviceaccount';

export interface KubeSettings {
  kube: KubeMode;
  /** Kubeconfig path or KUBECONFIG-style list given to guestlink itself (--kubeconfig, config file). */
  kubeconfig?: string | undefined;
  /**
   * $KUBECONFIG: used by `--kube kubeconfig` when no --kubeconfig is given, but never enough for
   * `--kube auto`, so that a developer's shell pointing at a real cluster cannot make a test agent
   * cordon a real node.
   */
  kubeconfigEnv?: string | undefined;
  /** The Node's name (from --node-name or NODE_NAME); else the host name. */
  nodeName?: string | undefined;
  /** KUBERNETES_SERVICE_HOST:KUBERNETES_SERVICE_PORT, set by the kubelet in every pod. */
  serviceAddress?: string | undefined;
  /** For tests: where the service-account files are. */
  serviceAccountDir?: string;
}

/**
 * Which identity to use, or undefined for none. auto: in-cluster in a pod that has the token, the
 * kubelet's service address and NODE_NAME (the DaemonSet sets it; a CI job that merely runs in a
 * pod does not, and must not start draining), else a kubeconfig given to guestlink, else off.
 */
export function detectKubeMode(s: KubeSettings): 'in-cluster' | 'kubeconfig' | undefined {
  switch (s.kube) {
    case 'off':
      return undefined;
    case 'in-cluster':
    case 'kubeconfig':
      return s.kube;
    case 'auto':
      if (s.serviceAddress && s.nodeName && existsSync(path.join(s.serviceAccountDir ?? SERVICE_ACCOUNT_DIR, 'token'))) return 'in-cluster';
      if (s.kubeconfig) return 'kubeconfig';
      return undefined;
  }
}

/** "host:port" from the kubelet's variables, with IPv6 hosts bracketed; undefined when either is missing. */
export function serviceAddress(host: string | undefined, port: string | undefined): string | undefined {
  if (!host || !port) return undefined;
  return `${host.includes(':') ? `[${host}]` : host}:${port}`;
}
