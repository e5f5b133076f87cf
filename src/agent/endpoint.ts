// The management endpoint (--listen tls://ADDR:PORT), wired: one more transport in front of the same
// dispatcher, policy and audit log as the hypervisor's channel. The transport (transport/tls-listen.ts)
// hands each connection the identity its client certificate proves; the Kubernetes side
// (kube/endpoint.ts) supplies the serving certificate and the checks; this module turns them into
// the dispatcher's authorize step (dispatch/authorize.ts) and audit lines with user and groups.
import os from 'node:os';
import type { Logger } from 'pino';
import type { Principal, Session } from '../commands/context.js';
import type { Authorize } from '../dispatch/authorize.js';
import type { Dispatcher } from '../dispatch/dispatcher.js';
import { parseDuration } from '../kube/duration.js';
import type { EndpointIdentity } from '../kube/endpoint.js';
import type { KubeLifecycle } from '../kube/index.js';
import type { NodeBackend } from '../node/interfaces.js';
import { genericError, type QgaError } from '../protocol/qga/errors.js';
import type { JsonLimits } from '../protocol/qga/json-stream.js';
import type { TlsListenTransport } from '../transport/tls-listen.js';
import { type AgentConfig, ConfigError } from './config.js';
import { serve } from './serve.js';
import { LISTEN_RE } from './settings.js';

export interface ManagementEndpoint {
  authorize: Authorize;
  /** Serves on the bound port with `dispatcher`; certificates arrive (and change) in the background. */
  start(dispatcher: Dispatcher, limits: JsonLimits): Promise<void>;
  transport: TlsListenTransport;
  identity: EndpointIdentity;
  close(): Promise<void>;
}

const ms = (text: string) => parseDuration(text) as number;

/** The back end's own addresses, for IP SANs when the Node object has none (loopback and CNI links left out). */
function backendAddresses(node: NodeBackend): () => Promise<string[]> {
  return async () => {
    const out: string[] = [];
    for (const i of await node.network.interfaces().catch(() => [])) {
      if (i.virtual || i.name === 'lo') continue;
      for (const a of i.addresses)
        if (!a.address.startsWith('fe80:') && a.address !== '127.0.0.1' && a.address !== '::1') out.push(a.address);
    }
    return out;
  };
}

/** The authorize step: token authentication for guestlink-authenticate, RBAC for everything. */
function authorizeStep(identity: EndpointIdentity, audit: Logger): Authorize {
  const refuse = (s: Session, command: string, verb: string, code: string, message: string): QgaError => {
    const p = s.principal as Principal;
    audit.warn({ command, session: s.id, user: p.user, groups: p.groups, verb, outcome: 'denied', code }, `audit ${command} denied`);
    return genericError(message, code);
  };
  const authenticate = (s: Session, token: string): QgaError | Promise<QgaError | undefined> => {
    const p = s.principal as Principal;
    if (p.authenticated !== false)
      return refuse(
        s,
        'guestlink-authenticate',
        'authenticate',
        'AUTHN_ALREADY',
        `guestlink-authenticate refused: this connection is already authenticated as "${p.user}" (by ${p.authenticated}); its identity cannot change: open a new connection for another one`,
      );
    return identity.authenticate(token).then((r) => {
      if (!('user' in r)) return refuse(s, 'guestlink-authenticate', 'authenticate', r.code, r.message);
      // In place: the transport holds the same object and stops the authentication timer.
      Object.assign(p, { user: r.user, groups: r.groups, uid: r.uid, extra: r.extra, authenticated: 'token' });
      audit.info(
        { command: 'guestlink-authenticate', session: s.id, user: p.user, groups: p.groups, outcome: 'ok' },
        'audit guestlink-authenticate',
      );
      return undefined;
    });
  };
  return (s, req) => {
    if (req.command === 'guestlink-authenticate') return authenticate(s, String(req.args.token));
    const d = identity.authorizer.check(s.principal as Principal, req.verb, req.command);
    if (d === undefined) return undefined;
    if (!(d instanceof Promise)) return refuse(s, req.command, req.verb, d.code, d.message);
    return d.then((x) => (x ? refuse(s, req.command, req.verb, x.code, x.message) : undefined));
  };
}

/** Builds the endpoint when --listen is set; ConfigError with the reason when it cannot work. */
export async function prepareEndpoint(
  config: AgentConfig,
  kube: KubeLifecycle | undefined,
  node: NodeBackend,
  log: Logger,
): Promise<ManagementEndpoint | undefined> {
  if (!config.listen) return undefined;
  if (!kube)
    throw new ConfigError(
      '--listen needs a Kubernetes cluster to authorize requests (SubjectAccessReview): run in a pod with NODE_NAME, or give --kubeconfig',
    );
  const [, rawHost, port] = LISTEN_RE.exec(config.listen) as RegExpExecArray;
  const elog = log.child({ endpoint: config.listen });
  const { startEndpointIdentity, KubeError } = await import('../kube/endpoint.js');
  let identity: EndpointIdentity;
  try {
    identity = startEndpointIdentity(
      kube,
      {
        identity: config.identity === 'auto' ? (config.tlsCert ? 'files' : 'csr') : (config.identity as 'csr' | 'files'),
        tlsCert: config.tlsCert,
        tlsKey: config.tlsKey,
        tlsClientCa: config.tlsClientCa,
        csrSigner: config.csrSigner,
        csrApprove: config.csrApprove,
        csrExpirationMs: ms(config.csrExpiration),
        statedir: config.statedir,
        hostName: os.hostname(),
        backendAddresses: backendAddresses(node),
        authzTimeoutMs: ms(config.authzTimeout),
        authzCacheTtlMs: ms(config.authzCacheTtl),
        authzCacheSize: config.authzCacheSize,
        authzMaxPending: config.authzMaxPending,
        tokenAudience: config.tokenAudience,
      },
      elog,
    );
  } catch (err) {
    if (err instanceof KubeError) throw new ConfigError(`--listen: ${err.message}`);
    throw err;
  }
  const { TlsListenTransport } = await import('../transport/tls-listen.js');
  const handshakeMs = ms(config.listenHandshakeTimeout);
  const transport = new TlsListenTransport({
    host: (rawHost as string).replace(/^\[(.*)\]$/, '$1'),
    port: Number(port),
    clientCa: identity.clientCa,
    allowCertless: config.listenTokens,
    maxConnections: config.listenMaxConnections,
    handshakeTimeoutMs: handshakeMs,
    idleTimeoutMs: ms(config.listenIdleTimeout),
    authTimeoutMs: handshakeMs,
    log: elog,
  });
  return {
    authorize: authorizeStep(identity, log.child({ audit: true })),
    transport,
    identity,
    start: async (dispatcher, limits) => {
      try {
        await serve(transport, dispatcher, elog, { limits });
      } catch (err) {
        identity.stop();
        throw new ConfigError(`--listen ${config.listen}: ${(err as Error).message}`);
      }
      const port = transport.address()?.port;
      elog.info({ port, identity: identity.operational ? 'csr' : 'files' }, 'management endpoint listening');
      let first = true;
      identity.onCertificate((c) => {
        transport.setMaterial({ key: c.keyPem, cert: c.certPem, clientCa: identity.clientCa });
        elog.info(
          { serial: c.serial, notAfter: new Date(c.notAfter).toISOString(), port: transport.address()?.port },
          first ? 'management endpoint serving' : 'management endpoint certificate swapped',
        );
        first = false;
      });
    },
    close: async () => {
      identity.stop();
      await transport.close();
    },
  };
}
