// A double of etcd's Maintenance service (etcdserverpb, api/etcdserverpb/rpc.proto) that serves only
// Snapshot, over real gRPC on loopback (plain, as a loopback etcd may be), for the attack tests: it
// streams what the test says — a good snapshot, a truncated or corrupted one, more than it announced,
// forever, slowly, or nothing at all. Messages are encoded with protobufjs from the field numbers
// below, independently of the agent's hand-written decoder.
import * as grpc from '@grpc/grpc-js';
import protobuf from 'protobufjs';

const root = protobuf.Root.fromJSON({
  nested: {
    etcdserverpb: {
      nested: {
        SnapshotRequest: { fields: {} },
        ResponseHeader: {
          fields: {
            clusterId: { type: 'uint64', id: 1 },
            memberId: { type: 'uint64', id: 2 },
            revision: { type: 'int64', id: 3 },
            raftTerm: { type: 'uint64', id: 4 },
          },
        },
        SnapshotResponse: {
          fields: {
            header: { type: 'ResponseHeader', id: 1 },
            remainingBytes: { type: 'uint64', id: 2 },
            blob: { type: 'bytes', id: 3 },
            version: { type: 'string', id: 4 },
          },
        },
      },
    },
  },
});
const Req = root.lookupType('etcdserverpb.SnapshotRequest');
const Res = root.lookupType('etcdserverpb.SnapshotResponse');

/** What the double's Snapshot does, set by each test. */
export type Behaviour =
  /** Streams `data` in `chunk`-byte blobs; remaining_bytes counts down from `announce` (default: the db part's size). */
  | { kind: 'bytes'; data: Buffer; chunk?: number; announce?: number }
  /** Streams `chunk` zero bytes after zero bytes until cancelled, announcing `announce` bytes. */
  | { kind: 'forever'; chunk: number; announce: number; everyMs?: number }
  /** Accepts the call and never answers. */
  | { kind: 'hang' }
  /** Fails the call with a gRPC status. */
  | { kind: 'fail'; code: grpc.status; details: string };

/** The server; `behaviour` may change between calls. */
export class EtcdMaintenanceDouble {
  behaviour: Behaviour = { kind: 'hang' };
  /** Calls received; bytes sent in total (to show where a stream was cut). */
  calls = 0;
  sent = 0;
  cancelled = 0;
  url = '';
  private readonly server = new grpc.Server();

  private constructor() {
    const def = {
      Snapshot: {
        path: '/etcdserverpb.Maintenance/Snapshot',
        requestStream: false,
        responseStream: true,
        requestSerialize: (v: object) => Buffer.from(Req.encode(Req.fromObject(v)).finish()),
        requestDeserialize: (b: Buffer) => Req.toObject(Req.decode(b)),
        responseSerialize: (v: object) => Buffer.from(Res.encode(Res.fromObject(v)).finish()),
        responseDeserialize: (b: Buffer) => Res.toObject(Res.decode(b)),
      },
    } as unknown as grpc.ServiceDefinition;
    this.server.addService(def, { Snapshot: (call: grpc.ServerWritableStream<object, object>) => this.snapshot(call) });
  }

  static async start(): Promise<EtcdMaintenanceDouble> {
    const d = new EtcdMaintenanceDouble();
    const port = await new Promise<number>((resolve, reject) =>
      d.server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (e, p) => (e ? reject(e) : resolve(p))),
    );
    d.url = `http://127.0.0.1:${port}`;
    return d;
  }

  private snapshot(call: grpc.ServerWritableStream<object, object>): void {
    this.calls++;
    let stopped = false;
    call.on('cancelled', () => {
      stopped = true;
      this.cancelled++;
    });
    const b = this.behaviour;
    if (b.kind === 'hang') return;
    if (b.kind === 'fail') return void call.emit('error', { code: b.code, details: b.details });
    if (b.kind === 'bytes') {
      const chunk = b.chunk ?? 32 * 1024;
      let remaining = b.announce ?? Math.max(0, b.data.length - 32);
      let at = 0;
      const more = () => {
        while (!stopped && at < b.data.length) {
          const blob = b.data.subarray(at, at + chunk);
          at += blob.length;
          remaining = Math.max(0, remaining - blob.length);
          this.sent += blob.length;
          if (!call.write({ remainingBytes: remaining, blob })) return void call.once('drain', more);
        }
        if (!stopped) call.end();
      };
      more();
      return;
    }
    const zeros = Buffer.alloc(b.chunk);
    const send = () => {
      while (!stopped) {
        this.sent += zeros.length;
        const ok = call.write({ remainingBytes: b.announce, blob: zeros });
        if (b.everyMs) return void setTimeout(send, b.everyMs).unref();
        if (!ok) return void call.once('drain', send);
      }
    };
    send();
  }

  stop(): Promise<void> {
    return new Promise((resolve) => this.server.tryShutdown(() => resolve()));
  }
}
