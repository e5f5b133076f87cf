// unix-listen: a listening unix socket (qemu-ga -m unix-listen); for tests, demos and host-side use.
//
// Unlike a serial port it takes many hosts at once, so it bounds what they can make the agent hold:
// at most maxConnections at a time (one more is told so and disconnected), and at most maxQueuedBytes of
// replies waiting in the agent for hosts that do not read them (past it, the host whose reply does not fit
// is disconnected). Requests are bounded above it (src/agent/serve.ts, request-budget.ts).
import { chmodSync, existsSync, lstatSync, unlinkSync } from 'node:fs';
import net from 'node:net';
import {
  type Connection,
  type ConnectionHandlers,
  DEFAULT_MAX_QUEUED_REPLY_BYTES,
  drained,
  newConnectionId,
  type Transport,
  type TransportLog,
} from './types.js';

/** The socket's mode and the bounds on what its hosts can make the agent hold. */
export interface UnixListenOptions {
  /** Socket file mode (default 0600: only the agent's user, root, may connect). */
  mode?: number;
  /** Hosts connected at once (default 16). */
  maxConnections?: number;
  /** Sent to a host over maxConnections before it is disconnected (the agent passes a QGA error line). */
  refusal?: Buffer;
  /** Replies written but not yet taken by the hosts' sockets, all connections together (DEFAULT_MAX_QUEUED_REPLY_BYTES). */
  maxQueuedBytes?: number;
  log?: TransportLog;
}

/** Hosts served at once (--max-connections): far more than real use (a hypervisor, a CLI), few enough to bound memory. */
export const DEFAULT_MAX_CONNECTIONS = 16;

const quiet: TransportLog = { warn() {}, info() {}, debug() {} };

/** Serves each host that connects as one conversation, up to maxConnections at once. */
export class UnixListenTransport implements Transport {
  readonly name = 'unix-listen';
  private server: net.Server | undefined;
  /** Every socket of ours, refused ones included (close() ends them all). */
  private readonly sockets = new Set<net.Socket>();
  /** The connections being served. */
  private readonly served = new Set<net.Socket>();
  private readonly maxConnections: number;
  private readonly maxQueuedBytes: number;
  private readonly log: TransportLog;

  constructor(
    private readonly path: string,
    private readonly opts: UnixListenOptions = {},
  ) {
    this.maxConnections = opts.maxConnections ?? DEFAULT_MAX_CONNECTIONS;
    this.maxQueuedBytes = opts.maxQueuedBytes ?? DEFAULT_MAX_QUEUED_REPLY_BYTES;
    this.log = opts.log ?? quiet;
  }

  async start(h: ConnectionHandlers): Promise<void> {
    // A stale socket file from a crashed run would make listen() fail with EADDRINUSE.
    if (existsSync(this.path) && lstatSync(this.path).isSocket()) unlinkSync(this.path);
    const server = net.createServer({ allowHalfOpen: false }, (sock) => {
      this.sockets.add(sock);
      sock.on('error', () => sock.destroy());
      sock.on('close', () => this.sockets.delete(sock));
      if (this.served.size >= this.maxConnections) return this.refuse(sock);
      this.serve(sock, h);
    });
    this.server = server;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.path, () => {
        server.off('error', reject);
        resolve();
      });
    });
    chmodSync(this.path, this.opts.mode ?? 0o600);
  }

  /** Over maxConnections: the refusal line, then the end (what the host sent meanwhile is read and dropped). */
  private refuse(sock: net.Socket): void {
    this.log.warn({ connections: this.served.size, max: this.maxConnections }, 'host refused: too many connections');
    sock.on('data', () => {});
    sock.end(this.opts.refusal ?? Buffer.alloc(0), () => sock.destroy());
  }

  private serve(sock: net.Socket, h: ConnectionHandlers): void {
    this.served.add(sock);
    const conn: Connection = {
      id: newConnectionId(),
      // Nothing to wait for when the socket took the bytes; a promise for 'drain' when its buffer is
      // full: replies stay in order (one writer per connection) and a host that stops reading holds
      // back only its own connection.
      write: (data) => {
        if (sock.destroyed || !sock.writable || sock.write(data)) return undefined;
        if (this.overQueued(sock, conn, data.length)) return undefined;
        return drained(sock);
      },
      close: () => sock.destroy(),
      pause: () => sock.pause(),
      resume: () => sock.resume(),
    };
    h.opened?.(conn);
    sock.on('data', (chunk) => h.data(conn, chunk));
    sock.on('close', () => {
      this.served.delete(sock);
      h.closed(conn);
    });
  }

  /**
   * After a write the socket could not take at once: true (and the host disconnected, its replies dropped)
   * when the replies waiting for all hosts now exceed maxQueuedBytes and this one is not the only one.
   */
  private overQueued(sock: net.Socket, conn: Connection, bytes: number): boolean {
    let total = 0;
    for (const s of this.served) total += s.writableLength;
    if (total <= this.maxQueuedBytes || total - bytes <= 0) return false;
    this.log.warn(
      { conn: conn.id, queued: total, max: this.maxQueuedBytes },
      'host disconnected: replies waiting for hosts to read them exceed max-queued-reply-bytes',
    );
    sock.destroy();
    return true;
  }

  async close(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    const server = this.server;
    this.server = undefined;
    if (server) await new Promise<void>((resolve) => server.close(() => resolve()));
    try {
      unlinkSync(this.path);
    } catch {}
  }
}
