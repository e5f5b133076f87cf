// Entry point of the Kubernetes layer, loaded by the agent only when a cluster is configured:
// builds the identity and client, wraps the back end's Power, and starts the after-boot check.
import os from 'node:os';
import type { Logger } from 'pino';
import type { NodeBackend } from '../node/interfaces.js';
import { afterStart } from './after-start.js';
import { KubeApi } from './api.js';
import { readBootId } from './cordon.js';
import type { KubeSettings } from './detect.js';
import { parseDuration } from './duration.js';
import { KubeError } from './errors.js';
import { withEtcdEvents } from './etcd-events.js';
import { Recorder } from './events.js';
import { type Identity, resolveIdentity } from './identity.js';
import { type DrainPolicy, KubePower, type LifecycleOptions, type TimeoutPolicy } from './power.js';
import { RestClient } from './rest.js';

export { KubeError } from './errors.js';

export interface LifecycleSettings extends KubeSettings {
  drain: DrainPolicy;
  /** A duration text (duration.ts), validated by the agent's config already. */
  drainTimeout: string;
  drainOnTimeout: TimeoutPolicy;
  /** For tests: the boot id file and drain tuning. */
  bootIdFile?: string;
  tuning?: LifecycleOptions['tuning'];
}

export interface KubeLifecycle {
  backend: NodeBackend;
  power: KubePower;
  /** The client, who the agent is, and its Node events: shared with the management endpoint (endpoint.ts). */
  api: KubeApi;
  identity: Identity;
  recorder: Recorder;
  /** Resolves when the after-start check is done (tests wait on it; the agent does not). */
  afterStart: Promise<unknown>;
  stop(): void;
}

/** Wraps `backend` for the identity `mode`; throws KUBE_CONFIG with the reason when it cannot. */
export async function enableKubernetes(
  mode: 'in-cluster' | 'kubeconfig',
  backend: NodeBackend,
  s: LifecycleSettings,
  log: Logger,
): Promise<KubeLifecycle> {
  const timeoutMs = parseDuration(s.drainTimeout);
  if (timeoutMs === undefined)
    throw new KubeError('KUBE_CONFIG', `drain-timeout "${s.drainTimeout}" is not a duration (like 50s or 9m30s)`);
  const id = await resolveIdentity(mode, s);
  let bootId: string;
  try {
    bootId = readBootId(s.bootIdFile);
  } catch (err) {
    throw new KubeError(
      'KUBE_CONFIG',
      `cannot read the boot id (${(err as Error).message}): it tells a restarted agent from a rebooted node`,
    );
  }
  const api = new KubeApi(new RestClient(id.conn));
  const audit = log.child({ audit: true });
  const recorder = new Recorder(api, id.nodeName, audit);
  const power = new KubePower(backend.power, {
    api,
    nodeName: id.nodeName,
    bootId,
    drain: s.drain,
    timeoutMs,
    onTimeout: s.drainOnTimeout,
    recorder,
    log: audit,
    ...(s.tuning ? { tuning: s.tuning } : {}),
  });
  log.info(
    {
      kube: id.source,
      server: id.conn.server,
      node: id.nodeName,
      drain: s.drain,
      drainTimeoutMs: timeoutMs,
      drainOnTimeout: s.drainOnTimeout,
    },
    'Kubernetes lifecycle on',
  );
  let stopped = false;
  const done = afterStart({
    api,
    nodeName: id.nodeName,
    bootId,
    bootTime: Date.now() - os.uptime() * 1000,
    power,
    recorder,
    log,
    stopped: () => stopped,
  }).catch((err: Error) => log.warn({ kube: 'AfterStart', err: err.message }, 'after-start check failed'));
  return {
    backend: withEtcdEvents(withPower(backend, power), recorder),
    power,
    api,
    identity: id,
    recorder,
    afterStart: done,
    stop: () => {
      stopped = true;
    },
  };
}

/** The back end with only its power replaced (back ends are plain objects of parts, as main.ts builds them). */
export function withPower(backend: NodeBackend, power: KubePower): NodeBackend {
  return { ...backend, power };
}
