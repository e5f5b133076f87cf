// tls: the management endpoint's listener (--listen tls://ADDR:PORT): TLS 1.3 only, client
// certificates requested and verified against the given CA (the cluster CA, or --tls-client-ca).
// It moves bytes and knows no commands: what it learns from the handshake (the client certificate's
// CN as the user, its O entries as the groups, as the Kubernetes API server maps them) is handed to
// the connection as its peer identity; authorization is the dispatcher's policy step.
// Caps: connections at once (server.maxConnections: more are closed on accept), the handshake's
// duration, idle time, the length of the client's certificate chain, and, for clients allowed in
// without a certificate (bearer tokens), the time to authenticate. TLS 1.3 has no renegotiation;
// session tickets are off, so every connection proves its certificate again.
import { constants } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import tls from 'node:tls';
import type { TransportLog } from './port-base.js';
import { type Connection, type ConnectionHandlers, newConnectionId, type PeerIdentity, type Transport } from './types.js';

export interface TlsMaterial {
  /** PEM private key and certificate chain (leaf first) the endpoint serves. */
  key: string;
  cert: string;
  /** PEM CA bundle that client certificates must chain to. */
  clientCa: string | Buffer;
}

/**
 * The port is bound at start (so a port in use stops the agent at once), possibly before the first
 * certificate exists (a CSR waiting for approval): until setMaterial() every handshake fails.
 */
export interface TlsListenOptions extends Partial<Pick<TlsMaterial, 'key' | 'cert'>>, Pick<TlsMaterial, 'clientCa'> {
  host: string;
  port: number;
  /** Let clients without a certificate in (they must authenticate in-band within authTimeoutMs); a certificate that is presented must still verify. */
  allowCertless: boolean;
  maxConnections: number;
  handshakeTimeoutMs: number;
  idleTimeoutMs: number;
  /** A certificate-less connection still unauthenticated after this long is closed. */
  authTimeoutMs: number;
  log: TransportLog;
}

/** Longest client chain accepted (leaf, intermediates, root); OpenSSL's 100 KiB handshake-message limit bounds the bytes. */
export const MAX_CLIENT_CHAIN = 5;

/** Counters for logs, benchmarks and the attack tests. */
export interface TlsStats {
  accepted: number;
  handshakeFailures: number;
  refusedChains: number;
  authTimeouts: number;
  idleTimeouts: number;
}

function names(v: string | string[] | undefined): string[] {
  if (v === undefined) return [];
  return Array.isArray(v) ? v : [v];
}

/** The identity a verified client certificate carries, or the reason it carries none usable. */
function peerFromCertificate(sock: tls.TLSSocket): PeerIdentity | string {
  const cert = sock.getPeerCertificate(true);
  if (!cert || Object.keys(cert).length === 0)
    return { user: 'system:anonymous', groups: ['system:unauthenticated'], authenticated: false };
  let depth = 1;
  for (let c = cert; c.issuerCertificate && c.issuerCertificate !== c; c = c.issuerCertificate) if (++depth > MAX_CLIENT_CHAIN) break;
  if (depth > MAX_CLIENT_CHAIN) return `client certificate chain longer than ${MAX_CLIENT_CHAIN}`;
  const cn = names(cert.subject?.CN);
  if (cn.length !== 1 || cn[0] === '') return 'client certificate without exactly one CN (the user name)';
  return { user: cn[0] as string, groups: names(cert.subject?.O), authenticated: 'certificate' };
}

export class TlsListenTransport implements Transport {
  readonly name = 'tls';
  readonly stats: TlsStats = { accepted: 0, handshakeFailures: 0, refusedChains: 0, authTimeouts: 0, idleTimeouts: 0 };
  private server: tls.Server | undefined;
  private readonly sockets = new Set<tls.TLSSocket>();
  private material: Partial<TlsMaterial>;

  constructor(private readonly o: TlsListenOptions) {
    this.material = o;
  }

  private context(m: Partial<TlsMaterial>): tls.SecureContextOptions {
    return {
      ...(m.key && m.cert ? { key: m.key, cert: m.cert } : {}),
      ca: m.clientCa,
      minVersion: 'TLSv1.3',
      // No tickets: a resumed session would skip the client certificate's verification.
      secureOptions: constants.SSL_OP_NO_TICKET,
    };
  }

  /** Serves a new certificate (and client CA) from the next handshake on; open connections keep theirs. */
  setMaterial(m: TlsMaterial): void {
    this.material = m;
    this.server?.setSecureContext(this.context(m));
  }

  /** The bound address (port 0 picks a free one: tests). */
  address(): AddressInfo | undefined {
    return (this.server?.address() as AddressInfo | null) ?? undefined;
  }

  async start(h: ConnectionHandlers): Promise<void> {
    const { o } = this;
    const server = tls.createServer({
      ...this.context(this.material),
      requestCert: true,
      rejectUnauthorized: !o.allowCertless,
      handshakeTimeout: o.handshakeTimeoutMs,
    });
    server.maxConnections = o.maxConnections;
    // With a listener here Node leaves the socket open (a handshake timeout would hold its slot for ever).
    server.on('tlsClientError', (err: Error & { code?: string }, sock) => {
      sock.destroy();
      this.stats.handshakeFailures++;
      o.log.debug({ transport: 'tls', remote: sock.remoteAddress, err: err.code ?? err.message }, 'TLS handshake failed');
    });
    server.on('drop', (d) =>
      o.log.warn({ transport: 'tls', remote: d?.remoteAddress, max: o.maxConnections }, 'connection refused: at the connection cap'),
    );
    server.on('secureConnection', (sock) => this.accept(sock, h));
    this.server = server;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(o.port, o.host, () => {
        server.off('error', reject);
        server.on('error', (err) => o.log.warn({ transport: 'tls', err: String(err) }, 'listener error'));
        resolve();
      });
    });
  }

  private accept(sock: tls.TLSSocket, h: ConnectionHandlers): void {
    const { o } = this;
    sock.on('error', () => sock.destroy());
    // With certificate-less clients allowed the handshake lets every client in: a certificate that was
    // presented but does not verify is refused here, before a byte of QGA.
    const presented = Object.keys(sock.getPeerCertificate() ?? {}).length > 0;
    const peer = presented && !sock.authorized ? `client certificate not trusted: ${sock.authorizationError}` : peerFromCertificate(sock);
    if (typeof peer === 'string') {
      this.stats.refusedChains++;
      o.log.warn({ transport: 'tls', remote: sock.remoteAddress }, `connection refused: ${peer}`);
      sock.destroy();
      return;
    }
    this.stats.accepted++;
    this.sockets.add(sock);
    const conn: Connection = {
      id: newConnectionId(),
      peer,
      write: (data) => {
        if (sock.destroyed || !sock.writable || sock.write(data)) return undefined;
        return new Promise((resolve) => {
          const done = () => {
            sock.off('drain', done).off('close', done);
            resolve();
          };
          sock.on('drain', done).on('close', done);
        });
      },
      close: () => sock.destroy(),
      pause: () => sock.pause(),
      resume: () => sock.resume(),
    };
    sock.setTimeout(o.idleTimeoutMs, () => {
      this.stats.idleTimeouts++;
      o.log.debug({ conn: conn.id, transport: 'tls' }, 'idle connection closed');
      sock.destroy();
    });
    if (peer.authenticated === false) {
      const t = setTimeout(() => {
        if (peer.authenticated !== false) return;
        this.stats.authTimeouts++;
        o.log.info({ conn: conn.id, transport: 'tls', remote: sock.remoteAddress }, 'connection closed: it did not authenticate in time');
        sock.destroy();
      }, o.authTimeoutMs);
      sock.once('close', () => clearTimeout(t));
    }
    h.opened?.(conn);
    o.log.debug({ conn: conn.id, transport: 'tls', remote: sock.remoteAddress, user: peer.user }, 'management connection');
    sock.on('data', (chunk: Buffer) => h.data(conn, chunk));
    sock.on('close', () => {
      this.sockets.delete(sock);
      h.closed(conn);
    });
  }

  async close(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    const server = this.server;
    this.server = undefined;
    if (server) await new Promise<void>((resolve) => server.close(() => resolve()));
  }
}
