// unix-listen: a listening unix socket (qemu-ga -m unix-listen); for tests, demos and host-side use.
import { chmodSync, existsSync, lstatSync, unlinkSync } from 'node:fs';
import net from 'node:net';
import { type Connection, type ConnectionHandlers, newConnectionId, type Transport } from './types.js';

export class UnixListenTransport implements Transport {
  readonly name = 'unix-listen';
  private server: net.Server | undefined;
  private readonly sockets = new Set<net.Socket>();

  constructor(
    private readonly path: string,
    private readonly mode = 0o600,
  ) {}

  async start(h: ConnectionHandlers): Promise<void> {
    // A stale socket file from a crashed run would make listen() fail with EADDRINUSE.
    if (existsSync(this.path) && lstatSync(this.path).isSocket()) unlinkSync(this.path);
    const server = net.createServer({ allowHalfOpen: false }, (sock) => {
      this.sockets.add(sock);
      const conn: Connection = {
        id: newConnectionId(),
        // Nothing to wait for when the socket took the bytes; a promise for 'drain' when its buffer is
        // full: replies stay in order (one writer per connection) and a host that stops reading holds
        // back only its own connection.
        write: (data) => {
          if (sock.destroyed || !sock.writable || sock.write(data)) return undefined;
          return new Promise((resolve) => {
            const done = () => {
              sock.off('drain', done);
              sock.off('close', done);
              resolve();
            };
            sock.on('drain', done);
            sock.on('close', done);
          });
        },
        close: () => sock.destroy(),
        pause: () => sock.pause(),
        resume: () => sock.resume(),
      };
      h.opened?.(conn);
      sock.on('data', (chunk) => h.data(conn, chunk));
      sock.on('error', () => sock.destroy());
      sock.on('close', () => {
        this.sockets.delete(sock);
        h.closed(conn);
      });
    });
    this.server = server;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.path, () => {
        server.off('error', reject);
        resolve();
      });
    });
    chmodSync(this.path, this.mode);
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
