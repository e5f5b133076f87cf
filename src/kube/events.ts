// Each lifecycle step goes two ways: an audit log line (always, synchronously) and a Kubernetes
// Event on the Node (best effort, posted in the background so an unreachable API server never
// delays the power action; the caller flushes them within what is left of its deadline).
import type { Logger } from 'pino';
import type { KubeApi } from './api.js';

export type EventReason =
  | 'ShutdownRequested'
  | 'Cordoned'
  | 'Draining'
  | 'EvictionBlocked'
  | 'Drained'
  | 'DrainTimedOut'
  | 'DrainFailed'
  | 'Proceeding'
  | 'DrainAborted'
  | 'PowerActionFailed'
  | 'DrainResumed'
  | 'Uncordoned'
  | 'StillUp'
  // The operational identity (operational-identity.ts).
  | 'CertificatePending'
  | 'CertificateApproved'
  | 'CertificateIssued'
  | 'CertificateDenied'
  | 'CertificateFailed'
  | 'CertificateExpired'
  // etcd snapshots at the freeze (node/etcd).
  | 'EtcdSnapshotTaken'
  | 'EtcdSnapshotFailed';

let seq = 0;

export class Recorder {
  private readonly pending = new Set<Promise<void>>();
  /** The Node's UID once known (events name their object by UID too). */
  nodeUid: string | undefined;

  constructor(
    private readonly api: KubeApi,
    private readonly nodeName: string,
    private readonly audit: Logger,
    private readonly callTimeoutMs = 5000,
  ) {}

  /** Logs the step and posts an Event for it. */
  record(reason: EventReason, message: string, fields: Record<string, unknown> = {}, type: 'Normal' | 'Warning' = 'Normal'): void {
    (type === 'Warning' ? this.audit.warn : this.audit.info).call(this.audit, { kube: reason, node: this.nodeName, ...fields }, message);
    const now = new Date().toISOString();
    const event = {
      apiVersion: 'v1',
      kind: 'Event',
      metadata: { name: `${this.nodeName}.${Date.now().toString(16)}${(seq++).toString(16).padStart(4, '0')}`, namespace: 'default' },
      involvedObject: { apiVersion: 'v1', kind: 'Node', name: this.nodeName, ...(this.nodeUid ? { uid: this.nodeUid } : {}) },
      reason,
      message,
      type,
      source: { component: 'guestlink', host: this.nodeName },
      reportingComponent: 'guestlink',
      reportingInstance: this.nodeName,
      firstTimestamp: now,
      lastTimestamp: now,
      count: 1,
    };
    const p = this.api
      .createEvent(event, this.callTimeoutMs)
      .then(
        () => undefined,
        // A warning: events failing for good (RBAC without events create, an API server that refuses
        // them) should be seen; the step itself is in the audit line above either way.
        (err: Error) => this.audit.warn({ kube: reason, err: err.message }, 'could not post the Kubernetes event'),
      )
      .finally(() => this.pending.delete(p));
    this.pending.add(p);
  }

  /** Waits for posted events, but not past `deadline` (epoch ms). */
  async flush(deadline: number): Promise<void> {
    const wait = deadline - Date.now();
    if (this.pending.size === 0 || wait <= 0) return;
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([Promise.allSettled([...this.pending]), new Promise<void>((r) => (timer = setTimeout(r, wait)))]);
    clearTimeout(timer);
  }
}
