// A QGA client over a byte stream (a QEMU chardev unix socket): sync, call, timeouts, resync.
// Uses the protocol's own reader and writer, so the host side has no second JSON implementation.
import net from 'node:net';
import { findCommand } from '../protocol/qga/commands.js';
import { JsonStreamReader } from '../protocol/qga/json-stream.js';
import { isObject, type JsonObject, type JsonValue, writeJson } from '../protocol/qga/json-value.js';
import type { CallOptions } from './connection.js';
import { AgentUnreachableError, QgaRemoteError, QgaTimeoutError, TooLargeError } from './errors.js';
import { MAX_PLAIN_REPLY, replyPayload, replyWireLimit, WIRE_FACTOR } from './reply-limits.js';

export type { CallOptions } from './connection.js';
export { QgaRemoteError, QgaTimeoutError } from './errors.js';

type Pending = {
  resolve: (v: JsonValue) => void;
  reject: (e: Error) => void;
  timer: NodeJS.Timeout;
  execute: string;
  /** Wire bytes this reply may take (host/reply-limits.ts). */
  limit: number;
};

/** One connection to an agent. Requests are answered in order, so replies are matched FIFO. */
export class QgaClient {
  private readonly pending: Pending[] = [];
  private readonly reader: JsonStreamReader;
  private ended = false;
  private awaitingDelimiter = false;
  /** Set after a timeout: a late reply would be matched to the next request, so resync first (as libvirt does). */
  private desynced = false;
  private endWaiters: (() => void)[] = [];
  /** Bytes fed since the last complete reply (undercounted by at most the rest of one read). */
  private replyBytes = 0;

  private constructor(private readonly sock: net.Socket) {
    this.reader = new JsonStreamReader((ev) => {
      this.replyBytes = 0;
      const p = this.pending.shift();
      if (!p) return;
      clearTimeout(p.timer);
      if ('error' in ev) return p.reject(new QgaRemoteError('ParseError', ev.error));
      const v = ev.value;
      if (isObject(v) && isObject(v.error)) {
        return p.reject(new QgaRemoteError(String(v.error.class), String(v.error.desc)));
      }
      p.resolve(isObject(v) && 'return' in v ? (v.return as JsonValue) : null);
    });
    sock.on('data', (chunk) => {
      // While synchronising, everything before the 0xFF that starts the guest-sync-delimited reply is
      // stale (replies to an earlier client, the parse error the agent sends for our own 0xFF).
      if (this.awaitingDelimiter) {
        const ff = chunk.indexOf(0xff);
        if (ff < 0) return;
        this.awaitingDelimiter = false;
        this.reader.reset();
        this.replyBytes = 0;
        chunk = chunk.subarray(ff + 1);
      }
      this.replyBytes += chunk.length;
      this.reader.feed(chunk);
      this.checkReplySize();
    });
    const end = () => {
      this.ended = true;
      for (const p of this.pending.splice(0)) {
        clearTimeout(p.timer);
        p.reject(new AgentUnreachableError('the agent closed the connection'));
      }
      for (const w of this.endWaiters.splice(0)) w();
    };
    sock.on('close', end);
    sock.on('error', end);
  }

  /** A reply larger than its bound ends the connection: what follows it cannot be trusted to line up. */
  private checkReplySize(): void {
    const head = this.pending[0];
    const limit = head?.limit ?? MAX_PLAIN_REPLY;
    if (this.replyBytes <= limit) return;
    if (head) {
      this.pending.shift();
      clearTimeout(head.timer);
      head.reject(
        new TooLargeError(
          `the agent's reply to ${head.execute} is over ${limit} bytes; stopped reading it and closed the connection (a broken or hostile agent)`,
        ),
      );
    }
    this.sock.destroy();
  }

  /** Connects to a unix socket and synchronises with guest-sync-delimited. */
  static async connectUnix(path: string, opts: CallOptions = {}): Promise<QgaClient> {
    const sock = await new Promise<net.Socket>((resolve, reject) => {
      const s = net.createConnection(path);
      s.once('connect', () => resolve(s));
      s.once('error', (err) => reject(new AgentUnreachableError(`cannot connect to ${path}: ${err.message}`)));
    });
    return QgaClient.over(sock, opts);
  }

  /**
   * Takes over a socket that is already connected (the management endpoint's TLS socket, after its
   * handshake) and synchronises with guest-sync-delimited; `first` runs before that (an endpoint
   * connection authenticates before any other command, the sync included).
   */
  static async over(sock: net.Socket, opts: CallOptions = {}, first?: (c: QgaClient) => Promise<unknown>): Promise<QgaClient> {
    const client = new QgaClient(sock);
    try {
      await first?.(client);
      await client.sync(opts);
    } catch (err) {
      client.close();
      throw err;
    }
    return client;
  }

  /** True once the connection is gone (the connector then reconnects). */
  get closed(): boolean {
    return this.ended;
  }

  /** guest-sync-delimited with a random id; stale replies before the 0xFF are dropped. */
  async sync(opts: CallOptions = {}): Promise<void> {
    const id = 1 + Math.floor(Math.random() * 2 ** 31);
    // Replies still owed to timed-out requests would be taken for ours: they are dropped with the stale bytes.
    this.awaitingDelimiter = true;
    this.sock.write(Buffer.from([0xff]));
    const got = await this.send('guest-sync-delimited', { id }, opts.timeoutMs ?? 5000);
    if (got !== id)
      throw new AgentUnreachableError(`guest-sync-delimited returned ${String(got)}, expected ${id}: another client may share the socket`);
    this.desynced = false;
  }

  /** Sends one command. For commands without a success response, resolves when the agent closes or after the timeout. */
  async call(execute: string, args?: JsonObject, opts: CallOptions = {}): Promise<JsonValue> {
    const timeoutMs = opts.timeoutMs ?? 5000;
    if (this.desynced) await this.sync(opts);
    const req = args && Object.keys(args).length > 0 ? { execute, arguments: args } : { execute };
    if (findCommand(execute)?.successResponse === false) return this.callNoReply(execute, req, timeoutMs);
    return this.send(execute, args, timeoutMs, replyWireLimit(replyPayload(execute, args, opts.maxPayloadBytes), WIRE_FACTOR.base64));
  }

  private send(execute: string, args: JsonObject | undefined, timeoutMs: number, limit = MAX_PLAIN_REPLY): Promise<JsonValue> {
    const req = args && Object.keys(args).length > 0 ? { execute, arguments: args } : { execute };
    return new Promise((resolve, reject) => {
      if (this.ended) return reject(new AgentUnreachableError('the agent closed the connection'));
      const timer = setTimeout(() => {
        const i = this.pending.findIndex((p) => p.timer === timer);
        if (i >= 0) this.pending.splice(i, 1);
        this.desynced = true;
        reject(new QgaTimeoutError(`no reply to ${execute} within ${timeoutMs} ms`));
      }, timeoutMs);
      this.pending.push({ resolve, reject, timer, execute, limit });
      this.sock.write(writeJson(req as JsonObject));
    });
  }

  /** guest-shutdown and guest-suspend-*: success is silence; an error reply is a failure. */
  private callNoReply(execute: string, req: JsonObject, timeoutMs: number): Promise<JsonValue> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        const i = this.pending.findIndex((p) => p.timer === timer);
        if (i >= 0) this.pending.splice(i, 1);
        // An error reply arriving later must not be taken for the next request's reply.
        this.desynced = true;
        resolve(null);
      }, timeoutMs);
      this.pending.push({ resolve, reject, timer, execute, limit: MAX_PLAIN_REPLY });
      this.endWaiters.push(() => resolve(null));
      this.sock.write(writeJson(req));
    });
  }

  close(): void {
    this.sock.destroy();
  }
}
