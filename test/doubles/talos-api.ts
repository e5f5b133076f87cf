// A double of the Talos machine API (machine.MachineService) and cosi.resource.State, served over
// real gRPC (@grpc/grpc-js) so the agent's client, codecs, metadata and TLS are exercised end to end.
// It follows the public definitions: field numbers of siderolabs/talos api/machine/machine.proto and
// api/common/common.proto, and of cosi-project/runtime api/v1alpha1/{resource,state}.proto; the
// roles each call needs (Reboot/Shutdown: os:admin, os:operator; reads: also os:reader); and the two
// ways in: the machined unix socket (insecure, roles from `talos-role` metadata) and apid over mTLS
// (roles from the client certificate's Subject Organization, `node` metadata naming the target);
// EtcdSnapshot streams common.Data chunks of a snapshot the test supplies, on control-plane nodes only.
//
// Its messages are encoded with protobufjs reflection from the descriptor below, independently of the
// agent's hand-built codec, so a field-number slip on our side cannot be mirrored here.
// It is not Talos: no sequencer, no proxying to other nodes, no real resources; tests fill those in.
import * as grpc from '@grpc/grpc-js';
import protobuf from 'protobufjs';

const scalar = (type: string, id: number, rule?: 'repeated') => ({ type, id, ...(rule ? { rule } : {}) });

/** The subset of the Talos/COSI schema the double serves, numbered as in the public .proto files. */
const SCHEMA = {
  nested: {
    google: {
      nested: { rpc: { nested: { Status: { fields: { code: scalar('int32', 1), message: scalar('string', 2) } } } } },
    },
    common: {
      nested: {
        Metadata: {
          fields: { hostname: scalar('string', 1), error: scalar('string', 2), status: scalar('google.rpc.Status', 3) },
        },
        Data: { fields: { metadata: scalar('common.Metadata', 1), bytes: scalar('bytes', 2) } },
      },
    },
    machine: {
      nested: {
        Empty: { fields: {} },
        RebootRequest: {
          fields: { mode: scalar('Mode', 1) },
          nested: { Mode: { values: { DEFAULT: 0, POWERCYCLE: 1, FORCE: 2 } } },
        },
        Reboot: { fields: { metadata: scalar('common.Metadata', 1), actorId: scalar('string', 2) } },
        RebootResponse: { fields: { messages: scalar('Reboot', 1, 'repeated') } },
        ShutdownRequest: { fields: { force: scalar('bool', 1) } },
        Shutdown: { fields: { metadata: scalar('common.Metadata', 1), actorId: scalar('string', 2) } },
        ShutdownResponse: { fields: { messages: scalar('Shutdown', 1, 'repeated') } },
        VersionInfo: {
          fields: {
            tag: scalar('string', 1),
            sha: scalar('string', 2),
            built: scalar('string', 3),
            goVersion: scalar('string', 4),
            os: scalar('string', 5),
            arch: scalar('string', 6),
          },
        },
        PlatformInfo: { fields: { name: scalar('string', 1), mode: scalar('string', 2) } },
        Version: {
          fields: { metadata: scalar('common.Metadata', 1), version: scalar('VersionInfo', 2), platform: scalar('PlatformInfo', 3) },
        },
        VersionResponse: { fields: { messages: scalar('Version', 1, 'repeated') } },
        Hostname: { fields: { metadata: scalar('common.Metadata', 1), hostname: scalar('string', 2) } },
        HostnameResponse: { fields: { messages: scalar('Hostname', 1, 'repeated') } },
        LoadAvg: {
          fields: {
            metadata: scalar('common.Metadata', 1),
            load1: scalar('double', 2),
            load5: scalar('double', 3),
            load15: scalar('double', 4),
          },
        },
        LoadAvgResponse: { fields: { messages: scalar('LoadAvg', 1, 'repeated') } },
        MemInfo: { fields: { memtotal: scalar('uint64', 1), memfree: scalar('uint64', 2), memavailable: scalar('uint64', 3) } },
        Memory: { fields: { metadata: scalar('common.Metadata', 1), meminfo: scalar('MemInfo', 2) } },
        MemoryResponse: { fields: { messages: scalar('Memory', 1, 'repeated') } },
        MountStat: {
          fields: {
            filesystem: scalar('string', 1),
            size: scalar('uint64', 2),
            available: scalar('uint64', 3),
            mountedOn: scalar('string', 4),
          },
        },
        Mounts: { fields: { metadata: scalar('common.Metadata', 1), stats: scalar('MountStat', 2, 'repeated') } },
        MountsResponse: { fields: { messages: scalar('Mounts', 1, 'repeated') } },
        EtcdSnapshotRequest: { fields: {} },
      },
    },
    cosi: {
      nested: {
        Metadata: {
          fields: {
            namespace: scalar('string', 1),
            type: scalar('string', 2),
            id: scalar('string', 3),
            version: scalar('string', 4),
            owner: scalar('string', 5),
            phase: scalar('string', 6),
          },
        },
        Spec: { fields: { protoSpec: scalar('bytes', 1), yamlSpec: scalar('string', 2) } },
        Resource: { fields: { metadata: scalar('Metadata', 1), spec: scalar('Spec', 2) } },
        GetRequest: { fields: { namespace: scalar('string', 1), type: scalar('string', 2), id: scalar('string', 3) } },
        GetResponse: { fields: { resource: scalar('Resource', 1) } },
        ListRequest: { fields: { namespace: scalar('string', 1), type: scalar('string', 2) } },
        ListResponse: { fields: { resource: scalar('Resource', 1) } },
      },
    },
  },
};

const root = protobuf.Root.fromJSON(SCHEMA);
const T = (name: string) => root.lookupType(name);

/** Roles per call, as Talos's authorization rules have them. */
export const ROLES_PER_CALL: Record<string, readonly string[]> = {
  Reboot: ['os:admin', 'os:operator'],
  Shutdown: ['os:admin', 'os:operator'],
  Version: ['os:admin', 'os:operator', 'os:reader'],
  Hostname: ['os:admin', 'os:operator', 'os:reader'],
  LoadAvg: ['os:admin', 'os:operator', 'os:reader'],
  Memory: ['os:admin', 'os:operator', 'os:reader'],
  Mounts: ['os:admin', 'os:operator', 'os:reader'],
  // machined.go: role.MakeSet(role.Admin, role.Operator, role.EtcdBackup); os:reader is refused.
  EtcdSnapshot: ['os:admin', 'os:operator', 'os:etcd:backup'],
  Get: ['os:admin', 'os:operator', 'os:reader'],
  List: ['os:admin', 'os:operator', 'os:reader'],
};

/** One call the double received. */
export interface RecordedCall {
  method: string;
  request: Record<string, unknown>;
  roles: string[];
  /** `node` metadata (apid's target), when sent. */
  node?: string;
  /** `talos-role` metadata, when sent. */
  talosRole?: string;
}

/** A COSI resource the double serves, its spec as the YAML Talos would fill in yaml_spec. */
export interface DoubleResource {
  namespace: string;
  type: string;
  id: string;
  yaml: string;
}

export interface TalosDoubleState {
  tag: string;
  hostname: string;
  load: [number, number, number];
  mounts: { filesystem: string; size: number; available: number; mountedOn: string }[];
  resources: DoubleResource[];
  /** Milliseconds to wait before answering, by call name (to test deadlines). */
  delayMs: Partial<Record<string, number>>;
  /** What EtcdSnapshot streams (an etcd snapshot file: database + sha256); undefined: etcd is down. */
  etcdSnapshot?: Buffer;
  /** machine.Type as Talos names it: controlplane, init (etcd runs) or worker (EtcdSnapshot is Unimplemented). */
  machineType: string;
  /** Chunk size of the EtcdSnapshot stream (Talos's chunker reads 4 KiB at a time by default). */
  etcdChunkBytes: number;
}

export type TalosDoubleListen = { kind: 'unix'; path: string } | { kind: 'mtls'; ca: Buffer; cert: Buffer; key: Buffer; host?: string };

export class TalosApiDouble {
  readonly calls: RecordedCall[] = [];
  readonly state: TalosDoubleState = {
    tag: 'v1.14.0',
    hostname: 'talos-cp-1',
    load: [0.25, 0.5, 1.5],
    mounts: [],
    resources: [],
    delayMs: {},
    machineType: 'controlplane',
    etcdChunkBytes: 4096,
  };
  private readonly server = new grpc.Server();
  /** The target the agent should use (unix:... or 127.0.0.1:port). */
  address = '';

  private constructor(private readonly listen: TalosDoubleListen) {
    this.server.addService(this.machineService(), this.machineHandlers());
    this.server.addService(this.cosiService(), this.cosiHandlers());
  }

  static async start(listen: TalosDoubleListen): Promise<TalosApiDouble> {
    const d = new TalosApiDouble(listen);
    const creds =
      listen.kind === 'unix'
        ? grpc.ServerCredentials.createInsecure()
        : grpc.ServerCredentials.createSsl(listen.ca, [{ cert_chain: listen.cert, private_key: listen.key }], true);
    const addr = listen.kind === 'unix' ? `unix:${listen.path}` : `${listen.host ?? '127.0.0.1'}:0`;
    const port = await new Promise<number>((resolve, reject) => d.server.bindAsync(addr, creds, (e, p) => (e ? reject(e) : resolve(p))));
    d.address = listen.kind === 'unix' ? addr : `${listen.host ?? '127.0.0.1'}:${port}`;
    return d;
  }

  /** Calls by name (Reboot, Shutdown, List, ...). */
  callsTo(name: string): RecordedCall[] {
    return this.calls.filter((c) => c.method.endsWith(`/${name}`));
  }

  stop(): Promise<void> {
    return new Promise((resolve) => this.server.tryShutdown(() => resolve()));
  }

  /** The caller's roles: the certificate's Organization over mTLS, `talos-role` on the socket. */
  private roles(call: grpc.ServerUnaryCall<unknown, unknown> | grpc.ServerWritableStream<unknown, unknown>): string[] {
    if (this.listen.kind === 'unix') return call.metadata.get('talos-role').map(String);
    const o = call.getAuthContext()?.sslPeerCertificate?.subject?.O as string | string[] | undefined;
    return o === undefined ? [] : Array.isArray(o) ? o : [o];
  }

  /** Records the call and checks its role; returns a gRPC error to send instead, if any. */
  private admit(
    name: string,
    call: grpc.ServerUnaryCall<unknown, unknown> | grpc.ServerWritableStream<unknown, unknown>,
    request: Record<string, unknown>,
  ): Partial<grpc.StatusObject> | undefined {
    const roles = this.roles(call);
    const rec: RecordedCall = { method: call.getPath(), request, roles };
    const node = call.metadata.get('node')[0];
    if (node !== undefined) rec.node = String(node);
    const role = call.metadata.get('talos-role')[0];
    if (role !== undefined) rec.talosRole = String(role);
    this.calls.push(rec);
    const allowed = ROLES_PER_CALL[name] ?? [];
    if (!roles.some((r) => allowed.includes(r))) return { code: grpc.status.PERMISSION_DENIED, details: 'not authorized' };
    return undefined;
  }

  private def(service: string, name: string, req: string, res: string, stream = false) {
    const reqT = T(req);
    const resT = T(res);
    return {
      path: `/${service}/${name}`,
      requestStream: false,
      responseStream: stream,
      requestSerialize: (v: object) => Buffer.from(reqT.encode(reqT.fromObject(v)).finish()),
      requestDeserialize: (b: Buffer) => reqT.toObject(reqT.decode(b), { enums: String, longs: Number, defaults: true }),
      responseSerialize: (v: object) => Buffer.from(resT.encode(resT.fromObject(v)).finish()),
      responseDeserialize: (b: Buffer) => resT.toObject(resT.decode(b)),
    };
  }

  private machineService(): grpc.ServiceDefinition {
    const s = 'machine.MachineService';
    return {
      Reboot: this.def(s, 'Reboot', 'machine.RebootRequest', 'machine.RebootResponse'),
      Shutdown: this.def(s, 'Shutdown', 'machine.ShutdownRequest', 'machine.ShutdownResponse'),
      Version: this.def(s, 'Version', 'machine.Empty', 'machine.VersionResponse'),
      Hostname: this.def(s, 'Hostname', 'machine.Empty', 'machine.HostnameResponse'),
      LoadAvg: this.def(s, 'LoadAvg', 'machine.Empty', 'machine.LoadAvgResponse'),
      Memory: this.def(s, 'Memory', 'machine.Empty', 'machine.MemoryResponse'),
      Mounts: this.def(s, 'Mounts', 'machine.Empty', 'machine.MountsResponse'),
      EtcdSnapshot: this.def(s, 'EtcdSnapshot', 'machine.EtcdSnapshotRequest', 'common.Data', true),
    } as unknown as grpc.ServiceDefinition;
  }

  private cosiService(): grpc.ServiceDefinition {
    const s = 'cosi.resource.State';
    return {
      Get: this.def(s, 'Get', 'cosi.GetRequest', 'cosi.GetResponse'),
      List: this.def(s, 'List', 'cosi.ListRequest', 'cosi.ListResponse', true),
    } as unknown as grpc.ServiceDefinition;
  }

  /** A unary handler: admit, wait the configured delay, answer with `reply()`. */
  private unary(name: string, reply: (req: Record<string, unknown>) => object | Partial<grpc.StatusObject>) {
    return (call: grpc.ServerUnaryCall<Record<string, unknown>, object>, cb: grpc.sendUnaryData<object>) => {
      const refused = this.admit(name, call, call.request);
      const answer = () => {
        if (refused) return cb(refused as grpc.ServiceError, null);
        const r = reply(call.request);
        if ('code' in r) return cb(r as grpc.ServiceError, null);
        cb(null, r);
      };
      const delay = this.state.delayMs[name];
      if (delay) setTimeout(answer, delay).unref();
      else answer();
    };
  }

  private machineHandlers(): grpc.UntypedServiceImplementation {
    const st = this.state;
    return {
      // Talos answers before it acts (the sequence runs asynchronously): so does the double.
      Reboot: this.unary('Reboot', () => ({ messages: [{ actorId: 'double-actor' }] })),
      Shutdown: this.unary('Shutdown', () => ({ messages: [{ actorId: 'double-actor' }] })),
      Version: this.unary('Version', () => ({
        messages: [{ version: { tag: st.tag, sha: 'abcdef0', os: 'linux', arch: 'amd64' }, platform: { name: 'nocloud', mode: 'cloud' } }],
      })),
      Hostname: this.unary('Hostname', () => ({ messages: [{ hostname: st.hostname }] })),
      LoadAvg: this.unary('LoadAvg', () => ({ messages: [{ load1: st.load[0], load5: st.load[1], load15: st.load[2] }] })),
      Memory: this.unary('Memory', () => ({ messages: [{ meminfo: { memtotal: 4028440, memfree: 1024000, memavailable: 3000000 } }] })),
      Mounts: this.unary('Mounts', () => ({ messages: [{ stats: st.mounts }] })),
      EtcdSnapshot: (call: grpc.ServerWritableStream<Record<string, unknown>, object>) => this.etcdSnapshot(call),
    };
  }

  /** machined's EtcdSnapshot: control plane only (CheckControlplane), then the snapshot in chunks. */
  private etcdSnapshot(call: grpc.ServerWritableStream<Record<string, unknown>, object>): void {
    const refused = this.admit('EtcdSnapshot', call, call.request);
    if (refused) return void call.emit('error', refused);
    const st = this.state;
    if (st.machineType !== 'controlplane' && st.machineType !== 'init')
      return void call.emit('error', {
        code: grpc.status.UNIMPLEMENTED,
        details: 'etcd snapshot is only available on control plane nodes',
      });
    const snap = st.etcdSnapshot;
    if (!snap)
      return void call.emit('error', { code: grpc.status.UNKNOWN, details: 'failed to create etcd client: context deadline exceeded' });
    let at = 0;
    const more = () => {
      while (at < snap.length) {
        const chunk = snap.subarray(at, at + st.etcdChunkBytes);
        at += chunk.length;
        if (!call.write({ bytes: chunk })) return void call.once('drain', more);
      }
      call.end();
    };
    const delay = st.delayMs.EtcdSnapshot;
    if (delay) setTimeout(more, delay).unref();
    else more();
  }

  private resource(r: DoubleResource) {
    return { metadata: { namespace: r.namespace, type: r.type, id: r.id, version: '1', phase: 'running' }, spec: { yamlSpec: r.yaml } };
  }

  private cosiHandlers(): grpc.UntypedServiceImplementation {
    return {
      Get: this.unary('Get', (req) => {
        const r = this.state.resources.find((x) => x.namespace === req.namespace && x.type === req.type && x.id === req.id);
        if (!r) return { code: grpc.status.NOT_FOUND, details: `resource ${String(req.type)}/${String(req.id)} not found` };
        return { resource: this.resource(r) };
      }),
      List: (call: grpc.ServerWritableStream<Record<string, unknown>, object>) => {
        const refused = this.admit('List', call, call.request);
        if (refused) {
          call.emit('error', refused);
          return;
        }
        const send = () => {
          for (const r of this.state.resources)
            if (r.namespace === call.request.namespace && r.type === call.request.type) call.write({ resource: this.resource(r) });
          call.end();
        };
        const delay = this.state.delayMs.List;
        if (delay) setTimeout(send, delay).unref();
        else send();
      },
    };
  }
}
