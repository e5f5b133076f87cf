// One connection to the Talos API over @grpc/grpc-js, with our own message codecs (messages.ts):
// the machined unix socket (system-extension mode: insecure, authorised by `talos-role` metadata)
// or apid over mTLS (DaemonSet mode: roles from the client certificate, `node` metadata picks the
// node). Every call has one deadline for all its attempts, so the hypervisor always gets an answer
// within --talos-timeout; only UNAVAILABLE (nothing reached the server) is retried, with backoff.
// Loaded only with the Talos back end: the Linux back end never pulls gRPC in.
import * as grpc from '@grpc/grpc-js';
import { genericError, type QgaError } from '../../protocol/qga/errors.js';
import { type CosiResource, decodeResourceReply, encodeGetRequest, encodeListRequest, metadataError, replyMessages } from './messages.js';
import { ProtoMessage } from './proto-wire.js';

export type TalosTarget =
  | { kind: 'socket'; path: string; role: string }
  | { kind: 'mtls'; endpoint: string; node?: string; ca: Buffer; crt: Buffer; key: Buffer };

export interface TalosClientOptions {
  /** Bound for one call, retries included (ms). */
  timeoutMs: number;
  /** Backoff before the first retry (ms); doubles up to 1 s. */
  initialBackoffMs?: number;
}

/** Roles each call needs (siderolabs/talos authz rules), for the error a refused call reports. */
const NEEDED: Record<string, string> = {
  Reboot: 'os:operator or os:admin',
  Shutdown: 'os:operator or os:admin',
  EtcdSnapshot: 'os:etcd:backup, os:operator or os:admin',
};

const pass = (b: Buffer): Buffer => b;

function shortName(method: string): string {
  return method.slice(method.lastIndexOf('/') + 1);
}

/** A talked-to Talos API; close() ends the channel. */
export class TalosClient {
  private readonly client: grpc.Client;
  /** Where the API is, for error texts. */
  readonly where: string;

  constructor(
    private readonly target: TalosTarget,
    private readonly opts: TalosClientOptions,
  ) {
    const options: grpc.ChannelOptions = {
      // CNI-heavy nodes list hundreds of links; 16 MiB leaves room.
      'grpc.max_receive_message_length': 16 << 20,
      // Our own retries are bounded by the call's deadline; grpc's would hide attempts from it.
      'grpc.enable_retries': 0,
      // machined restarts (upgrades, crashes) should be noticed within the bound, not after grpc's 1-120 s.
      'grpc.initial_reconnect_backoff_ms': 200,
      'grpc.max_reconnect_backoff_ms': 2000,
    };
    if (target.kind === 'socket') {
      this.where = `unix:${target.path}`;
      this.client = new grpc.Client(this.where, grpc.credentials.createInsecure(), options);
    } else {
      this.where = target.endpoint;
      // grpc-js negotiates ALPN h2 over TLS, which apid enforces since Talos 1.8.
      const creds = grpc.credentials.createSsl(target.ca, target.key, target.crt);
      this.client = new grpc.Client(target.endpoint, creds, options);
    }
  }

  private metadata(): grpc.Metadata {
    const md = new grpc.Metadata();
    if (this.target.kind === 'socket') md.set('talos-role', this.target.role);
    else if (this.target.node !== undefined) md.set('node', this.target.node);
    return md;
  }

  /** A failure as the hypervisor should read it: what failed, why, and what to do. */
  private toError(method: string, err: grpc.ServiceError, attempts: number, startedAt: number): QgaError {
    const call = shortName(method);
    const details = err.details || err.message;
    switch (err.code) {
      case grpc.status.PERMISSION_DENIED:
        return genericError(
          `Talos API refused ${call}: ${details}; the credentials need role ${NEEDED[call] ?? 'os:reader'} (os:operator is enough for guestlink)`,
          'TALOS_PERMISSION',
        );
      case grpc.status.UNAUTHENTICATED:
        return genericError(
          `Talos API did not authenticate guestlink for ${call}: ${details}; check the talosconfig's certificate`,
          'TALOS_AUTH',
        );
      case grpc.status.UNAVAILABLE:
      case grpc.status.DEADLINE_EXCEEDED: {
        const secs = ((Date.now() - startedAt) / 1000).toFixed(1);
        return genericError(
          `Talos API at ${this.where} unreachable for ${call} (${attempts} attempt${attempts === 1 ? '' : 's'} in ${secs} s): ${details}`,
          'TALOS_UNREACHABLE',
        );
      }
      case grpc.status.UNIMPLEMENTED:
        return genericError(`Talos API does not implement ${call} (Talos too old?): ${details}`, 'TALOS_UNIMPLEMENTED');
      default:
        return genericError(`Talos API ${call} failed (${grpc.status[err.code] ?? err.code}): ${details}`, 'TALOS_FAILED');
    }
  }

  /** Runs one attempt function until it succeeds, fails for good, or the call's deadline passes. */
  private async withRetries<T>(method: string, attempt: (deadline: Date) => Promise<T>): Promise<T> {
    const startedAt = Date.now();
    const deadline = startedAt + this.opts.timeoutMs;
    let backoff = this.opts.initialBackoffMs ?? 100;
    for (let n = 1; ; n++) {
      try {
        return await attempt(new Date(deadline));
      } catch (e) {
        const err = e as grpc.ServiceError;
        if (typeof err.code !== 'number') throw e;
        const wait = Math.min(backoff, deadline - Date.now());
        if (err.code !== grpc.status.UNAVAILABLE || wait <= 0) throw this.toError(method, err, n, startedAt);
        await new Promise((r) => setTimeout(r, wait));
        backoff = Math.min(backoff * 2, 1000);
      }
    }
  }

  /** A unary call; a node error that apid's proxy folded into the reply's metadata is thrown. */
  async unary(method: string, request: Buffer): Promise<ProtoMessage[]> {
    const reply = await this.withRetries(
      method,
      (deadline) =>
        new Promise<Buffer>((resolve, reject) => {
          this.client.makeUnaryRequest(method, pass, pass, request, this.metadata(), { deadline }, (err, value) =>
            err ? reject(err) : resolve(value ?? Buffer.alloc(0)),
          );
        }),
    );
    const messages = replyMessages(ProtoMessage.decode(reply));
    for (const m of messages) {
      const error = metadataError(m);
      if (error !== undefined) throw genericError(`Talos API ${shortName(method)} failed on the node: ${error}`, 'TALOS_FAILED');
    }
    return messages;
  }

  /** cosi.resource.State/Get; undefined when the resource does not exist. */
  async get(namespace: string, type: string, id: string): Promise<CosiResource | undefined> {
    const method = '/cosi.resource.State/Get';
    const reply = await this.withRetries(
      method,
      (deadline) =>
        new Promise<Buffer | undefined>((resolve, reject) => {
          this.client.makeUnaryRequest(
            method,
            pass,
            pass,
            encodeGetRequest(namespace, type, id),
            this.metadata(),
            { deadline },
            (err, v) => {
              if (err?.code === grpc.status.NOT_FOUND) resolve(undefined);
              else if (err) reject(err);
              else resolve(v ?? Buffer.alloc(0));
            },
          );
        }),
    );
    return reply === undefined ? undefined : decodeResourceReply(ProtoMessage.decode(reply));
  }

  /** cosi.resource.State/List (server streaming), collected. */
  list(namespace: string, type: string): Promise<CosiResource[]> {
    const method = '/cosi.resource.State/List';
    return this.withRetries(
      method,
      (deadline) =>
        new Promise<CosiResource[]>((resolve, reject) => {
          const out: CosiResource[] = [];
          const stream = this.client.makeServerStreamRequest(method, pass, pass, encodeListRequest(namespace, type), this.metadata(), {
            deadline,
          });
          let failed = false;
          stream.on('data', (b: Buffer) => {
            try {
              const r = decodeResourceReply(ProtoMessage.decode(b));
              if (r) out.push(r);
            } catch (err) {
              failed = true;
              stream.cancel();
              reject(genericError(`Talos API List ${type}: undecodable reply: ${(err as Error).message}`, 'TALOS_DECODE'));
            }
          });
          stream.on('error', (err) => {
            if (!failed) reject(err);
          });
          stream.on('status', (s: grpc.StatusObject) => {
            if (s.code === grpc.status.OK && !failed) resolve(out);
          });
        }),
    );
  }

  /**
   * A server-streaming machine API call's messages, in order, until the stream ends; `signal`
   * cancels it. Never retried: a stream that has begun cannot be resumed, and its own deadline
   * (not --talos-timeout) bounds it. Node errors in a message's metadata are thrown.
   */
  async *stream(method: string, request: Buffer, opts: { deadline: Date; signal: AbortSignal }): AsyncGenerator<ProtoMessage> {
    const startedAt = Date.now();
    const call = this.client.makeServerStreamRequest(method, pass, pass, request, this.metadata(), { deadline: opts.deadline });
    const cancel = () => call.cancel();
    opts.signal.addEventListener('abort', cancel, { once: true });
    try {
      for await (const raw of call as AsyncIterable<Buffer>) {
        const m = ProtoMessage.decode(raw);
        const error = metadataError(m);
        if (error !== undefined) throw genericError(`Talos API ${shortName(method)} failed on the node: ${error}`, 'TALOS_FAILED');
        yield m;
      }
    } catch (err) {
      const e = err as grpc.ServiceError;
      throw typeof e.code === 'number' ? this.toError(method, e, 1, startedAt) : err;
    } finally {
      opts.signal.removeEventListener('abort', cancel);
      call.cancel();
    }
  }

  close(): void {
    this.client.close();
  }
}
