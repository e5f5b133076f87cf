// The API double's certificates.k8s.io/v1, authentication.k8s.io/v1 and authorization.k8s.io/v1
// parts, following the API reference and kube-controller-manager's signer (not a recording):
// - certificatesigningrequests: create (validation: a PEM CERTIFICATE REQUEST whose signature
//   verifies, a signerName, usages, expirationSeconds >= 600; generateName; spec.username/groups/uid
//   filled in from the requester), get, watch (?watch=true&fieldSelector=metadata.name=X
//   &resourceVersion=RV&timeoutSeconds=N, one JSON event per line), delete (with a uid
//   precondition, 409 when it does not match).
// - the approval subresource (PUT .../approval): needs update on certificatesigningrequests/approval
//   AND the verb approve on signers for the CSR's signerName (or <domain>/*), as the API server checks.
// - the kubernetes.io/kubelet-serving signer: signs approved requests that satisfy its rules (O exactly
//   system:nodes, CN system:node:*, only DNS and IP SANs and at least one, usages exactly digital
//   signature + server auth [+ key encipherment]); others get Failed/SignerValidationFailure.
//   notBefore is backdated and notAfter is min(expirationSeconds, the signing duration).
// - TokenReview: tokens from a table, audiences intersected (error when none is shared).
// - SubjectAccessReview: answered from the RBAC table (kube-rbac.ts), the shipped manifests included.
import { execFileSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import type http from 'node:http';
import type { ClusterCa } from './kube-ca.js';
import { Rbac, type UserInfo } from './kube-rbac.js';

type Obj = Record<string, any>;

export const KUBELET_SERVING = 'kubernetes.io/kubelet-serving';
const CSR_PATH = '/apis/certificates.k8s.io/v1/certificatesigningrequests';
/** The API server's own audience: what a token gets when none is asked for. */
export const API_AUDIENCE = 'https://kubernetes.default.svc.cluster.local';

export interface SignerOptions {
  /** kube-controller-manager --cluster-signing-duration: the longest certificate issued (default 1 year). */
  durationSeconds?: number;
  /** How far notBefore is set back for clock skew (the real signer: 5 minutes). */
  backdateSeconds?: number;
}

export interface TokenInfo {
  user: string;
  groups: string[];
  uid?: string;
  audiences: string[];
}

type Answer = [number, Obj] | 'hang';

const status = (code: number, reason: string, message: string): Obj => ({
  kind: 'Status',
  apiVersion: 'v1',
  metadata: {},
  status: 'Failure',
  message,
  reason,
  code,
});

/** What openssl reads from a request; undefined when the PEM is not a CSR or its signature does not verify. */
function readRequest(pem: string): { o: string[]; cn: string | undefined; sans: string[] } | undefined {
  let text: string;
  try {
    text = execFileSync('openssl', ['req', '-verify', '-noout', '-text', '-nameopt', 'sep_multiline,sname'], {
      input: pem,
      encoding: 'utf8',
      stdio: 'pipe',
    });
  } catch {
    return undefined;
  }
  const subject = /Subject:\n((?:\s{8,}\S.*\n)*)/.exec(text)?.[1] ?? '';
  const fields = subject
    .split('\n')
    .map((l) => /^\s*(\w+)=(.*)$/.exec(l))
    .filter((m): m is RegExpExecArray => m !== null);
  const sanLine = /X509v3 Subject Alternative Name:.*\n\s*(.*)/.exec(text)?.[1] ?? '';
  return {
    o: fields.filter((m) => m[1] === 'O').map((m) => m[2] as string),
    cn: fields.find((m) => m[1] === 'CN')?.[2],
    sans: sanLine === '' ? [] : sanLine.split(/,\s*/),
  };
}

/** kube-controller-manager's check for kubernetes.io/kubelet-serving (ValidateKubeletServingCSR). */
function kubeletServingProblem(r: NonNullable<ReturnType<typeof readRequest>>, usages: string[]): string | undefined {
  if (JSON.stringify(r.o) !== '["system:nodes"]') return 'subject organization is not system:nodes';
  if (!r.sans.some((s) => s.startsWith('DNS:') || s.startsWith('IP Address:'))) return 'DNS or IP subjectAltName is required';
  if (r.sans.some((s) => s.startsWith('email:'))) return 'Email subjectAltNames are not allowed';
  if (r.sans.some((s) => s.startsWith('URI:'))) return 'URI subjectAltNames are not allowed';
  const u = [...usages].sort().join(',');
  if (u !== 'digital signature,key encipherment,server auth' && u !== 'digital signature,server auth')
    return 'usages did not match [digital signature key encipherment server auth]';
  if (!r.cn?.startsWith('system:node:')) return 'subject common name does not begin with system:node:';
  return undefined;
}

interface Watcher {
  res: http.ServerResponse;
  name: string | undefined;
}

export class CertificatesDouble {
  readonly csrs = new Map<string, Obj>();
  readonly tokens = new Map<string, TokenInfo>();
  /** Every TokenReview and SubjectAccessReview answered, in order. */
  readonly reviews: { kind: string; spec: Obj; status: Obj }[] = [];
  /** While true, TokenReviews and SubjectAccessReviews are accepted and never answered. */
  hangReviews = false;
  /** Called after a CSR is created, with the stored object (a test may replace it, as an attacker could). */
  onCreated: ((csr: Obj) => void) | undefined;
  private readonly history: { rv: number; type: string; object: Obj }[] = [];
  private readonly watchers = new Set<Watcher>();

  constructor(
    private readonly ca: ClusterCa,
    readonly rbac: Rbac,
    private readonly nextRv: () => number,
    private readonly later: (ms: number, f: () => void) => void,
    readonly signer: SignerOptions = {},
  ) {}

  static handles(pathname: string): boolean {
    return /^\/apis\/(certificates|authentication|authorization)\.k8s\.io\/v1\//.test(pathname);
  }

  /** Stores a new version of a CSR and tells the watchers. */
  put(csr: Obj, type: 'ADDED' | 'MODIFIED' | 'DELETED' = 'MODIFIED'): void {
    const rv = this.nextRv();
    csr.metadata.resourceVersion = String(rv);
    if (type === 'DELETED') this.csrs.delete(csr.metadata.name);
    else this.csrs.set(csr.metadata.name, csr);
    const ev = { rv, type, object: structuredClone(csr) };
    this.history.push(ev);
    for (const w of this.watchers)
      if (!w.name || w.name === csr.metadata.name) w.res.write(`${JSON.stringify({ type, object: ev.object })}\n`);
  }

  /** What `kubectl certificate approve|deny NAME` does (an administrator's decision). */
  decide(name: string, type: 'Approved' | 'Denied', reason = type === 'Approved' ? 'KubectlApprove' : 'KubectlDeny'): void {
    const csr = this.csrs.get(name);
    if (!csr) throw new Error(`no CSR ${name}`);
    csr.status = {
      ...csr.status,
      conditions: [
        ...(csr.status?.conditions ?? []),
        this.condition(
          type,
          reason,
          `This CSR was ${type.toLowerCase()} by kubectl certificate ${type === 'Approved' ? 'approve' : 'deny'}.`,
        ),
      ],
    };
    this.put(csr);
    if (type === 'Approved') this.later(10, () => this.sign(name));
  }

  private condition(type: string, reason: string, message: string): Obj {
    const now = new Date().toISOString();
    return { type, status: 'True', reason, message, lastUpdateTime: now, lastTransitionTime: now };
  }

  /** The signing controller: acts on approved kubelet-serving CSRs without a certificate. */
  private sign(name: string): void {
    const csr = this.csrs.get(name);
    if (!csr || csr.spec.signerName !== KUBELET_SERVING || csr.status?.certificate) return;
    const conds: Obj[] = csr.status?.conditions ?? [];
    if (!conds.some((c) => c.type === 'Approved') || conds.some((c) => c.type === 'Denied' || c.type === 'Failed')) return;
    const pem = Buffer.from(csr.spec.request, 'base64').toString('utf8');
    const req = readRequest(pem);
    const problem = req ? kubeletServingProblem(req, csr.spec.usages ?? []) : 'unable to parse csr';
    if (problem) {
      csr.status.conditions = [...conds, this.condition('Failed', 'SignerValidationFailure', problem)];
      return this.put(csr);
    }
    const now = Date.now();
    const duration = Math.min(csr.spec.expirationSeconds ?? Number.POSITIVE_INFINITY, this.signer.durationSeconds ?? 365 * 86_400);
    const rsa = (csr.spec.usages as string[]).includes('key encipherment');
    const cert = this.ca.sign(
      pem,
      now - (this.signer.backdateSeconds ?? 300) * 1000,
      now + duration * 1000,
      rsa ? 'serving_rsa' : 'serving',
    );
    csr.status = { ...csr.status, certificate: Buffer.from(cert).toString('base64') };
    this.put(csr);
  }

  /** A watch on CSRs: streams events after `resourceVersion`, ends after timeoutSeconds. Returns false when the URL is not one. */
  watch(url: URL, res: http.ServerResponse): boolean {
    if (url.pathname !== CSR_PATH || url.searchParams.get('watch') !== 'true') return false;
    const name = /^metadata\.name=(.+)$/.exec(url.searchParams.get('fieldSelector') ?? '')?.[1];
    const from = Number(url.searchParams.get('resourceVersion') ?? 0);
    res.writeHead(200, { 'content-type': 'application/json', 'transfer-encoding': 'chunked' });
    const w: Watcher = { res, name };
    for (const ev of this.history)
      if (ev.rv > from && (!name || ev.object.metadata.name === name))
        res.write(`${JSON.stringify({ type: ev.type, object: ev.object })}\n`);
    if (!from && name && this.csrs.has(name)) res.write(`${JSON.stringify({ type: 'ADDED', object: this.csrs.get(name) })}\n`);
    this.watchers.add(w);
    const end = () => {
      this.watchers.delete(w);
      if (!res.writableEnded) res.end();
    };
    res.on('close', end);
    this.later(Number(url.searchParams.get('timeoutSeconds') ?? 1800) * 1000, end);
    return true;
  }

  /** Ends every watch (the double is stopping). */
  endWatches(): void {
    for (const w of this.watchers) w.res.destroy();
    this.watchers.clear();
  }

  route(method: string, url: URL, who: UserInfo, body: any): Answer {
    const p = url.pathname;
    if (p === '/apis/authentication.k8s.io/v1/tokenreviews' && method === 'POST') return this.hangReviews ? 'hang' : this.tokenReview(body);
    if (p === '/apis/authorization.k8s.io/v1/subjectaccessreviews' && method === 'POST')
      return this.hangReviews ? 'hang' : this.accessReview(body);
    if (p === CSR_PATH && method === 'POST') return this.create(who, body);
    const m = /^\/apis\/certificates\.k8s\.io\/v1\/certificatesigningrequests\/([^/]+)(\/approval)?$/.exec(p);
    const name = m ? decodeURIComponent(m[1] as string) : undefined;
    const csr = name ? this.csrs.get(name) : undefined;
    if (!m || !name) return [404, status(404, 'NotFound', 'the server could not find the requested resource')];
    if (!csr) return [404, status(404, 'NotFound', `certificatesigningrequests.certificates.k8s.io "${name}" not found`)];
    if (!m[2] && method === 'GET') return [200, csr];
    if (!m[2] && method === 'DELETE') {
      const uid = body?.preconditions?.uid;
      if (uid && uid !== csr.metadata.uid)
        return [409, status(409, 'Conflict', `Precondition failed: UID in precondition: ${uid}, UID in object meta: ${csr.metadata.uid}`)];
      this.put(csr, 'DELETED');
      return [200, { kind: 'Status', apiVersion: 'v1', status: 'Success', details: { name, kind: 'certificatesigningrequests' } }];
    }
    if (m[2] && method === 'PUT') return this.approval(who, csr, body);
    return [405, status(405, 'MethodNotAllowed', `${method} is not supported here`)];
  }

  private create(who: UserInfo, body: any): Answer {
    const spec = body?.spec ?? {};
    const name =
      body?.metadata?.name ?? (body?.metadata?.generateName ? `${body.metadata.generateName}${randomUUID().slice(0, 5)}` : undefined);
    const invalid = (msg: string): Answer => [
      422,
      status(422, 'Invalid', `CertificateSigningRequest.certificates.k8s.io "${name ?? ''}" is invalid: ${msg}`),
    ];
    if (!name) return invalid('metadata.name: Required value: name or generateName is required');
    if (this.csrs.has(name))
      return [409, status(409, 'AlreadyExists', `certificatesigningrequests.certificates.k8s.io "${name}" already exists`)];
    const pem = typeof spec.request === 'string' ? Buffer.from(spec.request, 'base64').toString('utf8') : '';
    if (!/-----BEGIN CERTIFICATE REQUEST-----/.test(pem) || !readRequest(pem))
      return invalid('spec.request: Invalid value: []byte{...}: invalid certificate request');
    if (typeof spec.signerName !== 'string' || !/^[a-z0-9.-]+\/[A-Za-z0-9._-]+$/.test(spec.signerName))
      return invalid('spec.signerName: Required value');
    if (!Array.isArray(spec.usages) || spec.usages.length === 0) return invalid('spec.usages: Required value');
    if (spec.expirationSeconds !== undefined && !(spec.expirationSeconds >= 600))
      return invalid('spec.expirationSeconds: Invalid value: may not specify a duration less than 600 seconds (10 minutes)');
    const csr: Obj = {
      apiVersion: 'certificates.k8s.io/v1',
      kind: 'CertificateSigningRequest',
      metadata: { name, uid: randomUUID(), labels: body.metadata?.labels ?? {}, creationTimestamp: new Date().toISOString() },
      // Only request, signerName, expirationSeconds and usages are the requester's; the rest is who asked.
      spec: {
        request: spec.request,
        signerName: spec.signerName,
        usages: spec.usages,
        ...(spec.expirationSeconds !== undefined ? { expirationSeconds: spec.expirationSeconds } : {}),
        username: who.user,
        groups: [...who.groups],
        uid: `uid-${who.user}`,
      },
      status: {},
    };
    this.put(csr, 'ADDED');
    this.onCreated?.(csr);
    return [201, this.csrs.get(name) ?? csr];
  }

  private approval(who: UserInfo, csr: Obj, body: any): Answer {
    const signer: string = csr.spec.signerName;
    const domainWildcard = `${signer.split('/')[0]}/*`;
    const mayApprove = [signer, domainWildcard].some(
      (n) =>
        who.user === 'admin' || this.rbac.allows(who, { verb: 'approve', apiGroup: 'certificates.k8s.io', resource: 'signers', name: n }),
    );
    if (!mayApprove)
      return [
        403,
        status(
          403,
          'Forbidden',
          `certificatesigningrequests.certificates.k8s.io "${csr.metadata.name}" is forbidden: user not permitted to approve requests with signerName "${signer}"`,
        ),
      ];
    if (body?.metadata?.resourceVersion && body.metadata.resourceVersion !== csr.metadata.resourceVersion)
      return [
        409,
        status(
          409,
          'Conflict',
          `Operation cannot be fulfilled on certificatesigningrequests.certificates.k8s.io "${csr.metadata.name}": the object has been modified; please apply your changes to the latest version and try again`,
        ),
      ];
    if (body?.metadata?.uid && body.metadata.uid !== csr.metadata.uid)
      return [409, status(409, 'Conflict', 'Precondition failed: UID mismatch')];
    csr.status = { ...csr.status, conditions: body?.status?.conditions ?? [] };
    this.put(csr);
    this.later(10, () => this.sign(csr.metadata.name));
    return [200, csr];
  }

  private tokenReview(body: any): Answer {
    const spec = body?.spec ?? {};
    const asked: string[] = spec.audiences?.length ? spec.audiences : [API_AUDIENCE];
    const t = this.tokens.get(String(spec.token ?? ''));
    const shared = t ? t.audiences.filter((a) => asked.includes(a)) : [];
    const st: Obj = !t
      ? { authenticated: false, error: '[invalid bearer token, token lookup failed]' }
      : shared.length === 0
        ? {
            authenticated: false,
            error: `[invalid bearer token, token audiences ${JSON.stringify(t.audiences)} is invalid for the target audiences ${JSON.stringify(asked)}]`,
          }
        : {
            authenticated: true,
            user: { username: t.user, uid: t.uid ?? `uid-${t.user}`, groups: [...t.groups, 'system:authenticated'] },
            audiences: shared,
          };
    this.reviews.push({ kind: 'TokenReview', spec: { audiences: spec.audiences }, status: st });
    return [201, { apiVersion: 'authentication.k8s.io/v1', kind: 'TokenReview', metadata: {}, spec, status: st }];
  }

  private accessReview(body: any): Answer {
    const spec = body?.spec ?? {};
    const ra = spec.resourceAttributes;
    if (!spec.user && !spec.groups?.length) return [422, status(422, 'Invalid', 'at least one of user or group must be specified')];
    if (!ra) return [422, status(422, 'Invalid', 'exactly one of nonResourceAttributes or resourceAttributes must be specified')];
    const allowed = this.rbac.allows(
      { user: spec.user ?? '', groups: spec.groups ?? [] },
      {
        verb: ra.verb,
        apiGroup: ra.group ?? '',
        resource: ra.subresource ? `${ra.resource}/${ra.subresource}` : ra.resource,
        name: ra.name,
        namespace: ra.namespace,
      },
    );
    const st = allowed ? { allowed: true, reason: 'RBAC: allowed by a ClusterRoleBinding' } : { allowed: false };
    this.reviews.push({ kind: 'SubjectAccessReview', spec, status: st });
    return [201, { apiVersion: 'authorization.k8s.io/v1', kind: 'SubjectAccessReview', metadata: {}, spec, status: st }];
  }
}

export { Rbac };
