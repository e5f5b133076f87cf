// The Kubernetes layer's failures, one class with a stable code each, so callers decide by code
// (retry, give up, tell the operator) and messages say what to do next.

export type KubeErrorCode =
  /** No identity could be built (missing token, unreadable kubeconfig, exec plugin...). */
  | 'KUBE_CONFIG'
  /** The API server could not be reached or did not answer in time: worth retrying. */
  | 'KUBE_UNREACHABLE'
  /** The API server answered with an HTTP error status. */
  | 'KUBE_STATUS'
  /** The drain did not finish and drain-on-timeout is abort: the power action was refused. */
  | 'KUBE_DRAIN_ABORTED'
  /** A certificate signing request could not be made, read or trusted (malformed DER, not our own). */
  | 'KUBE_CSR'
  /** The CSR was denied or failed, or the signer returned an unusable certificate. */
  | 'KUBE_CERTIFICATE'
  /** The operational certificate's files (statedir/crypto, --tls-cert/--tls-key) cannot be used. */
  | 'KUBE_CRYPTO_FILES';

export class KubeError extends Error {
  constructor(
    readonly code: KubeErrorCode,
    message: string,
    /** HTTP status for KUBE_STATUS. */
    readonly status?: number,
    /** The API's Status reason ("NotFound", "TooManyRequests", ...), when it sent one. */
    readonly reason?: string,
  ) {
    super(message);
    this.name = 'KubeError';
  }

  /** Failures that may go away by themselves: network, timeouts, 429, 5xx, 409 conflicts. */
  get retriable(): boolean {
    if (this.code === 'KUBE_UNREACHABLE') return true;
    return this.code === 'KUBE_STATUS' && (this.status === 409 || this.status === 429 || (this.status ?? 0) >= 500);
  }
}

/** A KubeError for an HTTP status, with the hint an operator needs for the common ones. */
export function statusError(method: string, path: string, status: number, body: unknown): KubeError {
  const s = (body && typeof body === 'object' ? body : {}) as { message?: string; reason?: string };
  const hint =
    status === 401
      ? ' (the token or client certificate was refused: check the kubeconfig or the service-account token)'
      : status === 403
        ? ' (not allowed by RBAC: apply deploy/kubernetes/rbac.yaml and bind it to this identity)'
        : '';
  return new KubeError('KUBE_STATUS', `${method} ${path}: HTTP ${status}${s.message ? `: ${s.message}` : ''}${hint}`, status, s.reason);
}
