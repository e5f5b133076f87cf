// tls://HOST:PORT and node://NODE[:PORT] — guestlink's management endpoint (--listen tls://), the
// same QGA over mutual TLS 1.3. The client certificate, its key and the CA come from the user's
// kubeconfig (--kubeconfig, --context; the identity kubectl already uses), so nothing new is set up:
// the agent's serving certificate is signed by the cluster CA (kubelet-serving) and RBAC on
// nodes/guestlink decides what the user may do. node:// reads the Node object for its address
// (InternalIP, else ExternalIP, else Hostname) and accepts only a certificate for that very node
// (CN system:node:NODE). A user without a client certificate can give a bearer token minted for
// the endpoint's audience (GUESTLINK_TOKEN); a kubeconfig's own token is never sent to a node, since
// a node that received it could use it against the API server.
import { X509Certificate } from 'node:crypto';
import net from 'node:net';
import type { PeerCertificate } from 'node:tls';
import tls from 'node:tls';
import type { JsonObject, JsonValue } from '../../protocol/qga/json-value.js';
import { QgaClient } from '../client.js';
import type { AgentConnection, CallOptions } from '../connection.js';
import { AgentUnreachableError } from '../errors.js';
import { LazyClient } from './lazy-client.js';

/** The port node:// uses when none is given (deploy/components/management-endpoint listens there). */
export const DEFAULT_ENDPOINT_PORT = 10280;

/** What the user's kubeconfig supplies: TLS credentials for the endpoint. */
export interface EndpointCredentials {
  ca?: Buffer | string;
  cert?: Buffer | string;
  key?: Buffer | string;
  /** A bearer token for the endpoint's audience (GUESTLINK_TOKEN), sent with guestlink-authenticate. */
  token?: string;
}

/** Where to connect and which certificate to accept there. */
export interface EndpointTarget {
  host: string;
  port: number;
  /** The name the certificate must carry (SNI and the hostname check): the address's host, or the node name. */
  servername: string;
  /** node:// only: the certificate's CN must be system:node:<node>. */
  node?: string;
}

// Reads and writes: as over a unix socket (the endpoint's --listen-max-request-bytes is 4 MiB).
const READ_CHUNK = 4 << 20;
const WRITE_CHUNK = 1 << 20;

/** The hostname check, plus, for node://, that the certificate is that node's (a kubelet-serving certificate). */
export function checkIdentity(target: EndpointTarget) {
  return (host: string, cert: PeerCertificate): Error | undefined => {
    const err = tls.checkServerIdentity(host, cert);
    if (err) return err;
    if (target.node === undefined) return undefined;
    const cn = new X509Certificate(cert.raw).subject.split('\n').find((l) => l.startsWith('CN='));
    if (cn !== `CN=system:node:${target.node}`)
      return new Error(`the endpoint presented a certificate for ${cn ?? 'no CN'}, not for node ${target.node}`);
    return undefined;
  };
}

export class TlsConnection implements AgentConnection {
  readonly limits = { readChunk: READ_CHUNK, writeChunk: WRITE_CHUNK, pipeline: 3 };
  private readonly conn = new LazyClient((opts) => this.open(opts));

  constructor(
    readonly address: string,
    readonly name: string,
    private readonly target: () => Promise<EndpointTarget>,
    private readonly creds: () => Promise<EndpointCredentials>,
  ) {}

  private async open(opts: CallOptions): Promise<QgaClient> {
    const [t, c] = await Promise.all([this.target(), this.creds()]);
    const timeoutMs = opts.timeoutMs ?? 5000;
    const sock = await new Promise<tls.TLSSocket>((resolve, reject) => {
      const s = tls.connect({
        host: t.host,
        port: t.port,
        // SNI takes host names only (RFC 6066); an IP is still checked against the IP SANs.
        ...(net.isIP(t.servername) ? {} : { servername: t.servername }),
        minVersion: 'TLSv1.3',
        ...(c.ca ? { ca: c.ca } : {}),
        ...(c.cert && c.key ? { cert: c.cert, key: c.key } : {}),
        checkServerIdentity: checkIdentity(t),
      });
      const timer = setTimeout(() => s.destroy(new Error(`no TLS handshake within ${timeoutMs} ms`)), timeoutMs);
      s.once('secureConnect', () => {
        clearTimeout(timer);
        resolve(s);
      });
      s.once('error', (err) => {
        clearTimeout(timer);
        reject(new AgentUnreachableError(`${this.address} (${t.host}:${t.port}): ${err.message}`));
      });
    });
    // A token connection authenticates first: until then the endpoint answers nothing else, the sync included.
    const authenticate = c.token
      ? (client: QgaClient) =>
          client.call('guestlink-authenticate', { token: c.token as string }, opts).catch((err: Error) => {
            throw new AgentUnreachableError(`${this.address}: the token was refused: ${err.message}`);
          })
      : undefined;
    return QgaClient.over(sock, opts, authenticate).catch((err: Error) => {
      if (err.message.includes('the token was refused')) throw err;
      // TLS 1.3 checks the client's certificate after the client has finished its side: a refusal
      // arrives as the connection closing before the first reply.
      throw new AgentUnreachableError(
        `${this.address}: ${err.message} (a refused client certificate looks like this: check that the kubeconfig's user has a certificate from the cluster CA)`,
      );
    });
  }

  async call(execute: string, args?: JsonObject, opts: CallOptions = {}): Promise<JsonValue> {
    return this.conn.call(execute, args, opts);
  }

  close(): void {
    this.conn.close();
  }
}
