// Entry point for the management endpoint's Kubernetes side, loaded by the agent only with
// --listen: the serving certificate (from the CSR API, or from files), the CA that client
// certificates must chain to, the SubjectAccessReview authorizer and the TokenReview check. It
// reuses the lifecycle's client and identity (index.ts): one connection to the API server.
import { readFileSync } from 'node:fs';
import type { Logger } from 'pino';
import { Authorizer, authenticateToken, type Denial, type Principal } from './authorizer.js';
import { CryptoStore } from './crypto-store.js';
import { KubeError } from './errors.js';
import { IdentityApi } from './identity-api.js';
import type { KubeLifecycle } from './index.js';
import { OperationalIdentity } from './operational-identity.js';
import type { ServingCertificate } from './serving-cert.js';
import { ServingFiles } from './serving-files.js';

export { Authorizer, Denial, type Principal } from './authorizer.js';
export { KubeError } from './errors.js';
export type { ServingCertificate } from './serving-cert.js';

/** Denials are cached at most this long, so a new RoleBinding takes effect soon. */
export const DENIED_TTL_MS = 5000;

export interface EndpointSettings {
  identity: 'csr' | 'files';
  tlsCert?: string | undefined;
  tlsKey?: string | undefined;
  tlsClientCa?: string | undefined;
  csrSigner: string;
  csrApprove: 'external' | 'self';
  csrExpirationMs: number;
  statedir: string;
  hostName: string;
  /** The back end's addresses (IP SANs when the Node object has none). */
  backendAddresses: () => Promise<string[]>;
  authzTimeoutMs: number;
  authzCacheTtlMs: number;
  authzCacheSize: number;
  authzMaxPending: number;
  tokenAudience: string;
  /** Test knobs for the CSR lifecycle. */
  tuning?: ConstructorParameters<typeof OperationalIdentity>[0]['tuning'];
}

export interface EndpointIdentity {
  authorizer: Authorizer;
  authenticate(token: string): Promise<Principal | Denial>;
  /** PEM bundle that client certificates must chain to. */
  clientCa: Buffer;
  /** Called with the serving certificate now (when there is one) and with every new one. */
  onCertificate(cb: (c: ServingCertificate) => void): void;
  /** The CSR lifecycle, when --identity csr (tests and diagnostics). */
  operational?: OperationalIdentity;
  stop(): void;
}

function readClientCa(kube: KubeLifecycle, s: EndpointSettings): Buffer {
  if (s.tlsClientCa) {
    try {
      return readFileSync(s.tlsClientCa);
    } catch (err) {
      throw new KubeError('KUBE_CONFIG', `--tls-client-ca ${s.tlsClientCa}: ${(err as Error).message}`);
    }
  }
  const ca = kube.identity.conn.ca;
  if (!ca)
    throw new KubeError(
      'KUBE_CONFIG',
      `the management endpoint needs the CA that signs client certificates, and ${kube.identity.source} names no cluster CA: give --tls-client-ca`,
    );
  return Buffer.from(ca);
}

/** Builds the endpoint's identity and authorization; throws KUBE_CONFIG / KUBE_CRYPTO_FILES at start-up. */
export function startEndpointIdentity(kube: KubeLifecycle, s: EndpointSettings, log: Logger): EndpointIdentity {
  const api = new IdentityApi(kube.api.rest);
  const clientCa = readClientCa(kube, s);
  const authorizer = new Authorizer({
    api,
    nodeName: kube.identity.nodeName,
    timeoutMs: s.authzTimeoutMs,
    allowedTtlMs: s.authzCacheTtlMs,
    deniedTtlMs: Math.min(DENIED_TTL_MS, s.authzCacheTtlMs),
    cacheSize: s.authzCacheSize,
    maxPending: s.authzMaxPending,
    log,
  });
  const authenticate = (token: string) => authenticateToken({ api, audience: s.tokenAudience, timeoutMs: s.authzTimeoutMs }, token);
  if (s.identity === 'files') {
    if (!s.tlsCert || !s.tlsKey) throw new KubeError('KUBE_CONFIG', '--identity files needs --tls-cert and --tls-key');
    const files = new ServingFiles(s.tlsCert, s.tlsKey, log);
    const first = files.load();
    return {
      authorizer,
      authenticate,
      clientCa,
      onCertificate: (cb) => {
        cb(first);
        files.watch(cb);
      },
      stop: () => files.stop(),
    };
  }
  const operational = new OperationalIdentity({
    api,
    nodes: kube.api,
    nodeName: kube.identity.nodeName,
    hostName: s.hostName,
    backendAddresses: s.backendAddresses,
    signerName: s.csrSigner,
    approve: s.csrApprove,
    expirationSeconds: Math.round(s.csrExpirationMs / 1000),
    store: new CryptoStore(s.statedir),
    recorder: kube.recorder,
    log,
    ...(s.tuning ? { tuning: s.tuning } : {}),
  });
  // The crypto directory is checked now, so a bad one stops the agent at start-up with the reason.
  new CryptoStore(s.statedir).prepare();
  void operational.run();
  return {
    authorizer,
    authenticate,
    clientCa,
    operational,
    onCertificate: (cb) => operational.onCertificate(cb),
    stop: () => operational.stop(),
  };
}
