// Kubernetes awareness wired around the node back end (--kube): drain before a hypervisor-initiated
// power action, uncordon on return. Deciding costs one small module; the client, drain and YAML
// parser load only when a cluster is configured or detected.
import type { Logger } from 'pino';
import type { KubeLifecycle } from '../kube/index.js';
import type { NodeBackend } from '../node/interfaces.js';
import { type AgentConfig, ConfigError } from './config.js';

/**
 * The back end with the drain around its Power, and the lifecycle (for the management endpoint's
 * certificate); the back end unchanged when no cluster is configured.
 */
export async function withKubernetes(
  config: AgentConfig,
  backend: NodeBackend,
  log: Logger,
): Promise<{ node: NodeBackend; kube?: KubeLifecycle }> {
  if (config.kube === 'off') return { node: backend };
  const { detectKubeMode, serviceAddress } = await import('../kube/detect.js');
  const settings = {
    kube: config.kube,
    kubeconfig: config.kubeconfig,
    kubeconfigEnv: config.kubeconfigEnv,
    nodeName: config.nodeName ?? config.nodeNameEnv,
    serviceAddress: serviceAddress(config.kubernetesServiceHost, config.kubernetesServicePort),
  };
  const mode = detectKubeMode(settings);
  if (!mode) return { node: backend };
  const { enableKubernetes, KubeError } = await import('../kube/index.js');
  try {
    const lifecycle = await enableKubernetes(
      mode,
      backend,
      { ...settings, drain: config.drain, drainTimeout: config.drainTimeout, drainOnTimeout: config.drainOnTimeout },
      log,
    );
    return { node: lifecycle.backend, kube: lifecycle };
  } catch (err) {
    // A cluster was asked for but cannot be used: refuse to start rather than power off undrained.
    if (err instanceof KubeError) throw new ConfigError(`Kubernetes: ${err.message}`);
    throw err;
  }
}
