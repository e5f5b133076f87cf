// etcd's v3 Maintenance/Snapshot over gRPC (@grpc/grpc-js, loaded only on a node that runs etcd and
// has --etcd-snapshot-dir set): SnapshotRequest{} -> stream SnapshotResponse { header = 1,
// remaining_bytes = 2, blob = 3, version = 4 } (etcd-io/etcd api/etcdserverpb/rpc.proto), the last
// blob being the database's sha256. One connection per snapshot (they are rare); the endpoints are
// tried in order until one answers, but a stream that has begun is never restarted elsewhere.
import { readFileSync } from 'node:fs';
import * as grpc from '@grpc/grpc-js';
import { EtcdSnapshotError } from '../etcd/errors.js';
import type { SnapshotSource } from '../etcd/snapshotter.js';
import { ProtoMessage } from '../talos/proto-wire.js';
import type { EtcdAccess, EtcdEndpoint } from './etcd-endpoints.js';

const METHOD = '/etcdserverpb.Maintenance/Snapshot';
const pass = (b: Buffer): Buffer => b;

function readPem(file: string | undefined, what: string): Buffer | null {
  if (!file) return null;
  try {
    return readFileSync(file);
  } catch (err) {
    throw new EtcdSnapshotError('ETCD_REFUSED', `cannot read the etcd ${what} ${file}: ${(err as Error).message}`);
  }
}

function credentials(ep: EtcdEndpoint, a: EtcdAccess): grpc.ChannelCredentials {
  if (!ep.tls) return grpc.credentials.createInsecure();
  return grpc.credentials.createSsl(
    readPem(a.ca, 'CA (--etcd-cacert)'),
    readPem(a.key, 'key (--etcd-key)'),
    readPem(a.cert, 'certificate (--etcd-cert)'),
  );
}

function mapError(ep: EtcdEndpoint, err: grpc.ServiceError): EtcdSnapshotError {
  const details = err.details || err.message;
  switch (err.code) {
    case grpc.status.UNAVAILABLE:
    case grpc.status.DEADLINE_EXCEEDED:
      return new EtcdSnapshotError(
        'ETCD_UNREACHABLE',
        `etcd at ${ep.url} unreachable: ${details}; check that etcd runs and --etcd-endpoints`,
      );
    case grpc.status.UNAUTHENTICATED:
    case grpc.status.PERMISSION_DENIED:
      return new EtcdSnapshotError(
        'ETCD_REFUSED',
        `etcd at ${ep.url} refused the snapshot: ${details}; check --etcd-cert/--etcd-key (a client certificate of etcd's CA, such as kubeadm's healthcheck-client)`,
      );
    default:
      return new EtcdSnapshotError(
        'ETCD_SNAPSHOT_FAILED',
        `etcd at ${ep.url}: snapshot failed (${grpc.status[err.code] ?? err.code}): ${details}`,
      );
  }
}

/** The snapshot source for a node's own etcd. */
export class EtcdGrpcSource implements SnapshotSource {
  readonly describe: string;

  constructor(private readonly access: EtcdAccess) {
    this.describe = `etcd ${access.endpoints.map((e) => e.url).join(',')}`;
  }

  async *stream(opts: { deadline: Date; signal: AbortSignal; maxBytes: number }): AsyncGenerator<Buffer> {
    let last: EtcdSnapshotError | undefined;
    for (const ep of this.access.endpoints) {
      let started = false;
      try {
        for await (const chunk of this.one(ep, opts)) {
          started = true;
          yield chunk;
        }
        return;
      } catch (err) {
        if (started || !(err instanceof EtcdSnapshotError) || err.code !== 'ETCD_UNREACHABLE' || opts.signal.aborted) throw err;
        last = err;
      }
    }
    throw last ?? new EtcdSnapshotError('ETCD_UNREACHABLE', 'no etcd endpoint configured');
  }

  private async *one(ep: EtcdEndpoint, opts: { deadline: Date; signal: AbortSignal; maxBytes: number }): AsyncGenerator<Buffer> {
    const client = new grpc.Client(ep.target, credentials(ep, this.access), {
      // etcd sends 32 KiB blobs; room for other servers' larger ones, but bounded.
      'grpc.max_receive_message_length': 16 << 20,
      'grpc.enable_retries': 0,
    });
    const call = client.makeServerStreamRequest(METHOD, pass, pass, Buffer.alloc(0), new grpc.Metadata(), { deadline: opts.deadline });
    const cancel = () => call.cancel();
    opts.signal.addEventListener('abort', cancel, { once: true });
    let first = true;
    try {
      for await (const raw of call as AsyncIterable<Buffer>) {
        const msg = ProtoMessage.decode(raw);
        const blob = msg.bytes(3) ?? Buffer.alloc(0);
        if (first) {
          first = false;
          // remaining_bytes counts the database bytes still to come after this blob: the size is known now.
          const total = msg.uint64(2) + BigInt(blob.length);
          if (total > BigInt(opts.maxBytes))
            throw new EtcdSnapshotError(
              'ETCD_SNAPSHOT_TOO_LARGE',
              `etcd at ${ep.url} announces a ${total}-byte database, more than --etcd-snapshot-max-bytes (${opts.maxBytes}): raise it if the database is really that large`,
            );
        }
        if (blob.length > 0) yield blob;
      }
    } catch (err) {
      if (err instanceof EtcdSnapshotError) throw err;
      if (opts.signal.aborted) throw new EtcdSnapshotError('ETCD_SNAPSHOT_TIMEOUT', 'aborted');
      const e = err as grpc.ServiceError;
      throw typeof e.code === 'number' ? mapError(ep, e) : err;
    } finally {
      opts.signal.removeEventListener('abort', cancel);
      call.cancel();
      client.close();
    }
  }
}
