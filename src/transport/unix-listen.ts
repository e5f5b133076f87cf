// unix-listen: a listening unix socket (qemu-ga -m unix-listen); for tests, demos and host-side use.
//
// Unlike a serial port it takes many hosts at once, so it bounds what they can make the agent hold:
// at most maxConnections at a time (one more is told so and disconnected), and at most maxQueuedBytes of
// replies waiting in the agent for hosts that do not read them (past it, the host whose reply does not fit
// is disconnected). Requests are bounded above it (src/agent/serve.ts, request-budget.ts).
//
// With the native addon the agent listens and accepts itself (unix-accept.ts) and makes each host's socket
// from its fd with one read buffer for all of them; without it, node:net's server, whose sockets read each
// chunk into a new Buffer. Hosts see no difference.
import { chmodSync, closeSync, existsSync, lstatSync, unlinkSync } from 'node:fs';
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
import { NativeAcceptor, type UnixSocketNative } from './unix-accept.js';

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
  /** The addon's listen/accept/readiness functions; without them, node:net's server. */
  native?: UnixSocketNative | undefined;
}

/** Hosts served at once (--max-connections): far more than real use (a hypervisor, a CLI), few enough to bound memory. */
export const DEFAULT_MAX_CONNECTIONS = 16;

const quiet: TransportLog = { warn() {}, info() {}, debug() {} };

/**
 * The read buffer of the sockets made from accepted fds: one for all, since a read is handed on (and what
 * must outlive it copied: ConnectionHandlers.data) before the next one is made. 64 KiB, as libuv reads.
 */
const READ_BUFFER_BYTES = 64 * 1024;

/** Serves each host that connects as one conversation, up to maxConnections at once. */
export class UnixListenTransport implements Transport {
  readonly name = 'unix-listen';
  private server: net.Server | undefined;
  private acceptor: NativeAcceptor | undefined;
  private readBuffer: Buffer | undefined;
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
    const mode = this.opts.mode ?? 0o600;
    if (this.opts.native) {
      const acceptor = new NativeAcceptor(this.opts.native, this.log, (fd) => this.adopt(fd, h));
      acceptor.open(this.path, mode);
      this.acceptor = acceptor;
    } else {
      const server = net.createServer({ allowHalfOpen: false }, (sock) => this.accepted(sock, h));
      this.server = server;
      await new Promise<void>((resolve, reject) => {
        server.once('error', reject);
        server.listen(this.path, () => {
          server.off('error', reject);
          resolve();
        });
      });
    }
    // Both ways: node:net's file starts with the process's default mode; the addon's with `mode` less the
    // umask (never wider), which this makes exactly `mode`.
    chmodSync(this.path, mode);
  }

  /** A host's fd from the acceptor: its socket, reading into the shared buffer. */
  private adopt(fd: number, h: ConnectionHandlers): void {
    const buffer = (this.readBuffer ??= Buffer.allocUnsafe(READ_BUFFER_BYTES));
    // Set once the host is served; a refused host's bytes are dropped.
    const served: { conn?: Connection } = {};
    // The constructor takes onread (node's docs list it there since nodejs/node#54194; Node 20 and 24 both
    // honour it), @types/node only under connect()'s options.
    const options: net.SocketConstructorOpts & Pick<net.ConnectOpts, 'onread'> = {
      fd,
      readable: true,
      writable: true,
      allowHalfOpen: false,
      onread: {
        buffer,
        callback: (n: number, buf: Uint8Array) => {
          if (served.conn) h.data(served.conn, buf as Buffer, n);
          return true;
        },
      },
    };
    let sock: net.Socket;
    try {
      sock = new net.Socket(options);
    } catch (err) {
      this.log.warn({ err: String(err) }, 'host dropped: cannot make a socket of its connection');
      try {
        closeSync(fd);
      } catch {}
      return;
    }
    served.conn = this.accepted(sock, h, true);
  }

  /** A host connected: served, or refused over maxConnections. Returns its conversation when served. */
  private accepted(sock: net.Socket, h: ConnectionHandlers, ownReads = false): Connection | undefined {
    this.sockets.add(sock);
    sock.on('error', () => sock.destroy());
    sock.on('close', () => this.sockets.delete(sock));
    const conversations = this.conversations();
    if (conversations >= this.maxConnections) {
      this.refuse(sock, ownReads, conversations);
      return undefined;
    }
    return this.serve(sock, h, ownReads);
  }

  /**
   * The conversations that count against maxConnections: all served ones but those whose host has ended
   * (EOF read) and that owe it nothing more. Such a socket is closed a loop turn or two later (the shutdown
   * of our side completes first), and a host that reconnects at once, as a CLI does after each command,
   * must not be refused meanwhile. One still owed bytes (a host that half-closed and does not read) counts
   * until it is gone, so hosts cannot hold more than maxConnections sockets by half-closing them.
   */
  private conversations(): number {
    let n = 0;
    for (const s of this.served) if (!s.readableEnded || s.writableLength > 0) n++;
    return n;
  }

  /** Over maxConnections: the refusal line, then the end (what the host sent meanwhile is read and dropped). */
  private refuse(sock: net.Socket, ownReads: boolean, conversations: number): void {
    this.log.warn({ connections: conversations, max: this.maxConnections }, 'host refused: too many connections');
    if (!ownReads) sock.on('data', () => {});
    sock.end(this.opts.refusal ?? Buffer.alloc(0), () => sock.destroy());
  }

  /** ownReads: the socket's reads go to its onread callback (adopt), not to 'data' events. */
  private serve(sock: net.Socket, h: ConnectionHandlers, ownReads: boolean): Connection {
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
    if (!ownReads) sock.on('data', (chunk) => h.data(conn, chunk));
    sock.on('close', () => {
      this.served.delete(sock);
      h.closed(conn);
    });
    return conn;
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
    this.acceptor?.close();
    this.acceptor = undefined;
    for (const s of this.sockets) s.destroy();
    const server = this.server;
    this.server = undefined;
    if (server) await new Promise<void>((resolve) => server.close(() => resolve()));
    try {
      unlinkSync(this.path);
    } catch {}
  }
}
