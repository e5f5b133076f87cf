// Wires etcd snapshots into the node back end when --etcd-snapshot-dir is set: on Talos through the
// back end's own API (after checking from MachineType that this is a control-plane node); elsewhere
// through etcd's gRPC, found from the settings or kubeadm/k3s/RKE2 files. A node without etcd (a
// worker) gets nothing, and gRPC is never loaded for it; elsewhere it loads with the first snapshot.
import type { Logger } from 'pino';
import type { SnapshotSource } from '../node/etcd/snapshotter.js';
import type { NodeBackend } from '../node/interfaces.js';
import type { TalosApi } from '../node/talos/api.js';
import type { AgentConfig } from './config.js';
import { ConfigError } from './config.js';

type EtcdConfig = Pick<
  AgentConfig,
  | 'etcdSnapshotDir'
  | 'etcdSnapshotKeep'
  | 'etcdSnapshotTimeout'
  | 'etcdSnapshotMaxBytes'
  | 'etcdEndpoints'
  | 'etcdCacert'
  | 'etcdCert'
  | 'etcdKey'
>;

/** The back end with NodeBackend.etcdSnapshots when this node can take them; unchanged otherwise. */
export async function withEtcdSnapshots(config: EtcdConfig, backend: NodeBackend, log: Logger, root = '/'): Promise<NodeBackend> {
  const dir = config.etcdSnapshotDir;
  if (dir === undefined) return backend;
  const elog = log.child({ etcd: 'snapshots' });
  const { Snapshotter } = await import('../node/etcd/snapshotter.js');
  const options = {
    dir,
    keep: config.etcdSnapshotKeep,
    timeoutMs: config.etcdSnapshotTimeout * 1000,
    maxBytes: config.etcdSnapshotMaxBytes,
    log: elog,
  };
  const api = (backend as { api?: TalosApi }).api;
  if (backend.name === 'talos' && api) {
    const { talosMachineRole, TalosEtcdSource } = await import('../node/talos/etcd-snapshot.js');
    const role = await talosMachineRole(api);
    if (role === 'worker') {
      elog.info({ dir }, 'a Talos worker runs no etcd: etcd snapshots off');
      return backend;
    }
    const { withEtcdSnapshots: talosWith } = await import('../node/talos/index.js');
    elog.info({ dir, source: 'Talos EtcdSnapshot', machineType: role }, 'etcd snapshots on');
    return talosWith(backend, new Snapshotter(new TalosEtcdSource(api), options));
  }
  const { detectEtcd } = await import('../node/linux/etcd-endpoints.js');
  let access: ReturnType<typeof detectEtcd>;
  try {
    access = detectEtcd(
      {
        etcdEndpoints: config.etcdEndpoints,
        ...(config.etcdCacert ? { etcdCacert: config.etcdCacert } : {}),
        ...(config.etcdCert ? { etcdCert: config.etcdCert } : {}),
        ...(config.etcdKey ? { etcdKey: config.etcdKey } : {}),
      },
      root,
    );
  } catch (err) {
    throw new ConfigError(`etcd snapshots: ${(err as Error).message}`);
  }
  if (!access) {
    elog.info({ dir }, 'no etcd on this node (no --etcd-endpoints, no kubeadm, k3s or RKE2 etcd found): etcd snapshots off');
    return backend;
  }
  const found = access;
  // gRPC (~60 ms, ~12 MB) loads with the first snapshot, not at start: most agents never take one.
  const source: SnapshotSource = {
    describe: `etcd ${found.endpoints.map((e) => e.url).join(',')}`,
    async *stream(o) {
      const { EtcdGrpcSource } = await import('../node/linux/etcd-source.js');
      yield* new EtcdGrpcSource(found).stream(o);
    },
  };
  elog.info({ dir, source: source.describe, via: found.via, cert: found.cert }, 'etcd snapshots on');
  return { ...backend, etcdSnapshots: new Snapshotter(source, options) };
}
