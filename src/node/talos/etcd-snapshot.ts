// etcd snapshots on a Talos control-plane node: machine.MachineService/EtcdSnapshot streams
// common.Data chunks of what machined reads from its etcd (clientv3's Snapshot, the appended sha256
// included). machined allows it for os:admin, os:operator and os:etcd:backup, refuses os:reader,
// and answers Unimplemented on a worker ("only available on control plane nodes").
// The node's role is read once at start-up from the MachineType resource, so that a worker loads
// and does nothing (credentials that cannot read resources, os:etcd:backup alone, leave it to the call).
import { EtcdSnapshotError } from '../etcd/errors.js';
import type { SnapshotSource } from '../etcd/snapshotter.js';
import type { TalosApi } from './api.js';
import { decodeDataChunk, METHODS } from './messages.js';

/** Talos's MachineType resource: spec "controlplane", "init" (both run etcd) or "worker". */
export const MACHINE_TYPE = { namespace: 'config', type: 'MachineTypes.config.talos.dev', id: 'machine-type' } as const;

/** 'control-plane', 'worker', or 'unknown' when the API cannot tell (refused, unreachable, too old). */
export async function talosMachineRole(api: TalosApi): Promise<'control-plane' | 'worker' | 'unknown'> {
  try {
    const r = await api.get(MACHINE_TYPE.namespace, MACHINE_TYPE.type, MACHINE_TYPE.id);
    const spec = r?.yamlSpec.trim();
    if (spec === 'controlplane' || spec === 'init') return 'control-plane';
    if (spec === 'worker') return 'worker';
    return 'unknown';
  } catch {
    return 'unknown';
  }
}

/** The QgaError codes of the Talos client, as snapshot failures. */
function mapTalosError(err: unknown): unknown {
  const code = (err as { code?: string }).code;
  const msg = (err as Error).message;
  switch (code) {
    case 'TALOS_PERMISSION':
    case 'TALOS_AUTH':
      return new EtcdSnapshotError('ETCD_REFUSED', msg);
    case 'TALOS_UNREACHABLE':
      return new EtcdSnapshotError('ETCD_UNREACHABLE', msg);
    case 'TALOS_UNIMPLEMENTED':
      return new EtcdSnapshotError(
        'ETCD_NOT_CONTROL_PLANE',
        `${msg} (etcd snapshots exist only on control-plane nodes; unset --etcd-snapshot-dir on workers)`,
      );
    case 'TALOS_FAILED':
      return new EtcdSnapshotError('ETCD_SNAPSHOT_FAILED', msg);
    default:
      return err;
  }
}

/** EtcdSnapshot through the Talos API the back end already holds. */
export class TalosEtcdSource implements SnapshotSource {
  readonly describe = 'Talos EtcdSnapshot';

  constructor(private readonly api: TalosApi) {}

  async *stream(opts: { deadline: Date; signal: AbortSignal; maxBytes: number }): AsyncGenerator<Buffer> {
    const stream = this.api.stream;
    if (!stream) throw new EtcdSnapshotError('ETCD_SNAPSHOT_FAILED', 'this Talos API connection cannot stream');
    try {
      // EtcdSnapshotRequest has no fields: its encoding is empty.
      for await (const m of stream.call(this.api, METHODS.etcdSnapshot, Buffer.alloc(0), opts)) {
        const chunk = decodeDataChunk(m);
        if (chunk.length > 0) yield chunk;
      }
    } catch (err) {
      if (err instanceof EtcdSnapshotError) throw err;
      if (opts.signal.aborted) throw new EtcdSnapshotError('ETCD_SNAPSHOT_TIMEOUT', 'aborted');
      throw mapTalosError(err);
    }
  }
}
