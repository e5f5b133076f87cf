// The API calls of the operational identity and the management endpoint, and only those (they
// match deploy/kubernetes/identity/): certificatesigningrequests create/get/watch/delete, the
// approval subresource (self approval only), tokenreviews and subjectaccessreviews create.
import type { RestClient, WatchEvent } from './rest.js';

const CSR_PATH = '/apis/certificates.k8s.io/v1/certificatesigningrequests';

export interface CsrCondition {
  /** Approved, Denied or Failed. */
  type: string;
  status: string;
  reason?: string;
  message?: string;
  lastUpdateTime?: string;
}

/** certificates.k8s.io/v1 CertificateSigningRequest, the fields guestlink reads. */
export interface CsrObject {
  apiVersion?: string;
  kind?: string;
  metadata: { name: string; uid: string; resourceVersion?: string; labels?: Record<string, string>; generateName?: string };
  spec: {
    /** base64 of the PEM request. */
    request: string;
    signerName: string;
    usages?: string[];
    expirationSeconds?: number;
    /** Filled in by the API server from the requester. */
    username?: string;
    groups?: string[];
    uid?: string;
  };
  status?: { conditions?: CsrCondition[]; certificate?: string };
}

/** What a new request carries; the API server adds who asked. */
export interface NewCsr {
  generateName: string;
  labels: Record<string, string>;
  requestPem: string;
  signerName: string;
  usages: string[];
  expirationSeconds: number;
}

/** authentication.k8s.io/v1 TokenReview status. */
export interface TokenReviewStatus {
  authenticated?: boolean;
  user?: { username?: string; uid?: string; groups?: string[]; extra?: Record<string, string[]> };
  audiences?: string[];
  error?: string;
}

/** authorization.k8s.io/v1 SubjectAccessReview spec (resource attributes only). */
export interface AccessReviewSpec {
  user: string;
  groups: readonly string[];
  uid?: string;
  extra?: Record<string, string[]>;
  resourceAttributes: { verb: string; group: string; resource: string; subresource: string; name: string };
}

export interface AccessReviewStatus {
  allowed?: boolean;
  denied?: boolean;
  reason?: string;
  evaluationError?: string;
}

export class IdentityApi {
  constructor(readonly rest: RestClient) {}

  createCsr(c: NewCsr, timeoutMs: number): Promise<CsrObject> {
    return this.rest.call('POST', CSR_PATH, {
      body: {
        apiVersion: 'certificates.k8s.io/v1',
        kind: 'CertificateSigningRequest',
        metadata: { generateName: c.generateName, labels: c.labels },
        spec: {
          request: Buffer.from(c.requestPem).toString('base64'),
          signerName: c.signerName,
          usages: c.usages,
          expirationSeconds: c.expirationSeconds,
        },
      },
      timeoutMs,
    });
  }

  getCsr(name: string, timeoutMs: number): Promise<CsrObject> {
    return this.rest.call('GET', `${CSR_PATH}/${encodeURIComponent(name)}`, { timeoutMs });
  }

  /** Watches one CSR by name from `resourceVersion`; the server ends the watch after `seconds`. */
  watchCsr(name: string, resourceVersion: string | undefined, seconds: number, onEvent: (ev: WatchEvent) => void) {
    const q = new URLSearchParams({ fieldSelector: `metadata.name=${name}`, watch: 'true', timeoutSeconds: String(seconds) });
    if (resourceVersion) q.set('resourceVersion', resourceVersion);
    // The server's own timeout ends the response; the client's deadline only catches a server that hangs.
    return this.rest.watch(`${CSR_PATH}?${q}`, onEvent, { timeoutMs: (seconds + 15) * 1000 });
  }

  /** Adds an Approved condition through the approval subresource; 409 when the CSR changed since `csr` was read. */
  approveCsr(csr: CsrObject, reason: string, message: string, timeoutMs: number): Promise<CsrObject> {
    const now = new Date().toISOString();
    const body = {
      ...csr,
      apiVersion: 'certificates.k8s.io/v1',
      kind: 'CertificateSigningRequest',
      status: {
        ...csr.status,
        conditions: [
          ...(csr.status?.conditions ?? []),
          { type: 'Approved', status: 'True', reason, message, lastUpdateTime: now, lastTransitionTime: now },
        ],
      },
    };
    return this.rest.call('PUT', `${CSR_PATH}/${encodeURIComponent(csr.metadata.name)}/approval`, { body, timeoutMs });
  }

  /** Deletes a CSR, only if it is still the one with `uid` (a precondition). */
  deleteCsr(name: string, uid: string, timeoutMs: number): Promise<unknown> {
    return this.rest.call('DELETE', `${CSR_PATH}/${encodeURIComponent(name)}`, {
      body: { apiVersion: 'v1', kind: 'DeleteOptions', preconditions: { uid } },
      timeoutMs,
    });
  }

  async tokenReview(token: string, audiences: readonly string[], timeoutMs: number): Promise<TokenReviewStatus> {
    const out = await this.rest.call<{ status?: TokenReviewStatus }>('POST', '/apis/authentication.k8s.io/v1/tokenreviews', {
      body: {
        apiVersion: 'authentication.k8s.io/v1',
        kind: 'TokenReview',
        spec: { token, ...(audiences.length > 0 ? { audiences } : {}) },
      },
      timeoutMs,
    });
    return out.status ?? {};
  }

  async subjectAccessReview(spec: AccessReviewSpec, timeoutMs: number): Promise<AccessReviewStatus> {
    const out = await this.rest.call<{ status?: AccessReviewStatus }>('POST', '/apis/authorization.k8s.io/v1/subjectaccessreviews', {
      body: { apiVersion: 'authorization.k8s.io/v1', kind: 'SubjectAccessReview', spec },
      timeoutMs,
    });
    return out.status ?? {};
  }
}
