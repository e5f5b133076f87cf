// The management endpoint (--listen): mTLS, tokens, the operational identity and the authorization
// reviews (issue 15).
// One part of the agent's settings table: src/agent/settings.ts joins the parts, in a fixed order.
import { parseDuration } from '../../kube/duration.js';
import type { SettingSpec } from '../../settings/index.js';

/** --listen: tls://ADDR:PORT, ADDR an IPv4 address, a bracketed IPv6 address or a host name. */
export const LISTEN_RE = /^tls:\/\/(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9.-]+):(\d{1,5})$/;

/** A duration text (kube/duration.ts) within [min, max] ms, kept as written so --dump-conf reads back. */
function duration(min: number, max: number, range: string) {
  return (v: unknown): string | undefined => {
    const ms = parseDuration(String(v));
    return ms !== undefined && ms >= min && ms <= max ? undefined : `must be a duration from ${range}, like 30s or 5m`;
  };
}

/** The endpoint settings, in their --help and docs order. */
export const ENDPOINT = [
  {
    key: 'listen',
    pattern: { re: LISTEN_RE, text: 'tls://ADDR:PORT (ADDR an IP address, [IPv6] or a host name)' },
    group: 'guestlink',
    type: 'string',
    help: 'management endpoint: serve QGA over mutual TLS 1.3 at tls://ADDR:PORT (off by default) to Kubernetes users, authorized by RBAC on nodes/guestlink through SubjectAccessReviews; needs a cluster (--kube) and a serving certificate (--identity); see docs/identity.md',
  },
  {
    key: 'listen-max-connections',
    min: 1,
    max: 10_000,
    group: 'guestlink',
    type: 'int',
    default: 32,
    help: 'management-endpoint connections at once (handshaking ones included); more are closed on accept',
  },
  {
    key: 'listen-handshake-timeout',
    check: duration(100, 300_000, '100ms to 5m'),
    group: 'guestlink',
    type: 'string',
    default: '10s',
    help: 'a TLS handshake must finish within this (and, with --listen-tokens, guestlink-authenticate must follow within it again)',
  },
  {
    key: 'listen-idle-timeout',
    check: duration(1000, 86_400_000, '1s to 24h'),
    group: 'guestlink',
    type: 'string',
    default: '5m',
    help: 'a management-endpoint connection that sends nothing for this long is closed',
  },
  {
    key: 'listen-max-request-bytes',
    min: 1024,
    max: 64 << 20,
    group: 'guestlink',
    type: 'int',
    default: 4 << 20,
    help: 'largest request on the management endpoint (the CLI writes files in 1 MiB chunks, 1.4 MB of base64); bounds memory to connections x this',
  },
  {
    key: 'listen-tokens',
    group: 'guestlink',
    type: 'bool',
    default: false,
    help: 'also let clients without a certificate in, to authenticate with a bearer token (guestlink-authenticate, checked by a TokenReview)',
  },
  {
    key: 'token-audience',
    group: 'guestlink',
    type: 'string',
    default: 'guestlink',
    help: 'the audience bearer tokens must be minted for (kubectl create token NAME --audience guestlink): a token for the API server is refused',
  },
  {
    key: 'identity',
    group: 'guestlink',
    type: 'string',
    default: 'auto',
    choices: ['auto', 'off', 'csr', 'files'],
    help: "the endpoint's serving certificate: csr (ECDSA key made here, certificate from the cluster's CSR API, kept in <statedir>/crypto and renewed at two thirds of its life), files (--tls-cert/--tls-key, such as cert-manager's, re-read when they change), auto (files when --tls-cert is given, else csr when --listen is set), off (no endpoint)",
  },
  {
    key: 'tls-cert',
    absolute: true,
    group: 'guestlink',
    type: 'string',
    help: 'with --identity files: PEM certificate chain the endpoint serves',
  },
  { key: 'tls-key', absolute: true, group: 'guestlink', type: 'string', help: 'with --identity files: PEM private key of --tls-cert' },
  {
    key: 'tls-client-ca',
    absolute: true,
    group: 'guestlink',
    type: 'string',
    help: "PEM CA bundle client certificates must chain to (default: the cluster CA, the service account's ca.crt or the kubeconfig's)",
  },
  {
    key: 'csr-signer',
    pattern: { re: /^[a-z0-9.-]+\/[A-Za-z0-9._-]+$/, text: 'a signerName such as kubernetes.io/kubelet-serving' },
    group: 'guestlink',
    type: 'string',
    default: 'kubernetes.io/kubelet-serving',
    help: 'signerName of the CSR (kubelet-serving: signed by the cluster CA, which clients already trust); another for clusters with their own signer',
  },
  {
    key: 'csr-approve',
    group: 'guestlink',
    type: 'string',
    default: 'external',
    choices: ['external', 'self'],
    help: 'who approves the CSR: external (an operator or approver; the log and a Node event name the kubectl command) or self (the agent approves its own after checking it; needs approve on the signer, see docs/security.md)',
  },
  {
    key: 'csr-expiration',
    // The CSR API refuses expirationSeconds below 600.
    check: duration(600_000, 8760 * 3_600_000, '10m to 8760h'),
    group: 'guestlink',
    type: 'string',
    default: '720h',
    help: 'expirationSeconds asked for (10m to 8760h; the signer may issue shorter); renewal comes at two thirds of the lifetime',
  },
  {
    key: 'authz-timeout',
    check: duration(100, 30_000, '100ms to 30s'),
    group: 'guestlink',
    type: 'string',
    default: '2s',
    help: 'a SubjectAccessReview or TokenReview must be answered within this, else the request is denied (fail closed)',
  },
  {
    key: 'authz-cache-ttl',
    check: duration(0, 3_600_000, '0 to 1h'),
    group: 'guestlink',
    type: 'string',
    default: '30s',
    help: 'how long an allowed decision is cached (denials: 5 s at most); 0 asks the API server on every request',
  },
  {
    key: 'authz-cache-size',
    min: 1,
    max: 1_000_000,
    group: 'guestlink',
    type: 'int',
    default: 1024,
    help: 'cached authorization decisions (user, groups, verb); the oldest are dropped first',
  },
  {
    key: 'authz-max-pending',
    min: 1,
    max: 10_000,
    group: 'guestlink',
    type: 'int',
    default: 64,
    help: 'authorization reviews waiting for the API server at once; requests beyond it are denied at once',
  },
] as const satisfies readonly SettingSpec[];
