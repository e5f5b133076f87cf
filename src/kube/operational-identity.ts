// The node's operational identity: a serving certificate from the cluster's CSR API, kept fresh.
//   1. A stored certificate that still names this node and is not past two thirds of its life is used
//      at once; else a new ECDSA P-256 key and a CSR (signer kubernetes.io/kubelet-serving unless
//      --csr-signer) are made with the agent's own credentials.
//   2. Approval: external (default) waits, telling the operator the kubectl command in the log and in
//      a Node event; self checks the CSR is exactly its own and approves it (self-approval.ts).
//   3. The certificate is read from the CSR's status (watched), checked against the key, stored
//      (crypto-store.ts), handed to the listeners (the TLS endpoint swaps it for new handshakes), and
//      the CSR object is deleted.
//   4. At two thirds of its lifetime the same again with a new key; until a new one is issued the old
//      one stays in use, so there is no gap. A denied or failed CSR is an event and an error line, and
//      is retried later; past its expiry the old certificate is reported as expired.
import { createPrivateKey, type KeyObject } from 'node:crypto';
import type { Logger } from 'pino';
import type { KubeApi } from './api.js';
import type { CryptoStore } from './crypto-store.js';
import { buildCsr, type CsrSubject, generateOperationalKey, pem } from './csr.js';
import { formatDuration } from './duration.js';
import { KubeError } from './errors.js';
import type { Recorder } from './events.js';
import type { CsrObject, IdentityApi } from './identity-api.js';
import { nodeSubject } from './node-subject.js';
import { checkOwnCsr, type OwnRequest } from './self-approval.js';
import { matchesSubject, renewAt, type ServingCertificate, servingCertificate } from './serving-cert.js';

/** kubelet-serving's usages for an ECDSA key (key encipherment is for RSA key exchange only). */
export const SERVING_USAGES = ['digital signature', 'server auth'] as const;
export const KUBELET_SERVING_SIGNER = 'kubernetes.io/kubelet-serving';
/** Label on guestlink's CSRs: which node asked (kubectl get csr -l guestlink.io/node=NAME). */
export const CSR_NODE_LABEL = 'guestlink.io/node';

export interface IdentityOptions {
  api: IdentityApi;
  nodes: KubeApi;
  nodeName: string;
  /** This machine's host name (a DNS SAN when it differs from the node name). */
  hostName: string;
  /** The back end's addresses, used when the Node object lists none. */
  backendAddresses: () => Promise<string[]>;
  signerName: string;
  approve: 'external' | 'self';
  expirationSeconds: number;
  store: CryptoStore;
  recorder: Recorder;
  log: Logger;
  /** Test knobs: the first retry delay after a failure, and how long one watch lasts. */
  tuning?: { retryMs?: number; watchSeconds?: number; callTimeoutMs?: number };
}

type Listener = (c: ServingCertificate) => void;
const MAX_TIMER_MS = 2 ** 31 - 1;
const decided = (csr: CsrObject, type: string) => csr.status?.conditions?.find((c) => c.type === type && c.status !== 'False');

export class OperationalIdentity {
  current: ServingCertificate | undefined;
  private readonly listeners: Listener[] = [];
  private stopped = false;
  private wake: (() => void) | undefined;
  private watchStop: (() => void) | undefined;
  private expiredReported = false;
  private readonly callMs: number;

  constructor(private readonly o: IdentityOptions) {
    this.callMs = o.tuning?.callTimeoutMs ?? 10_000;
  }

  /** Called with every certificate from now on (the first one included, when it comes). */
  onCertificate(l: Listener): void {
    this.listeners.push(l);
    if (this.current) l(this.current);
  }

  /** Runs until stop(): loads or obtains the certificate, then renews it. Never rejects. */
  async run(): Promise<void> {
    try {
      this.o.store.prepare();
      const stored = await this.loadStored();
      if (stored) this.install(stored, 'stored');
    } catch (err) {
      this.o.log.error({ identity: 'store', err: (err as Error).message }, 'operational certificate: the stored one cannot be used');
    }
    await this.renewLoop();
  }

  private async renewLoop(): Promise<void> {
    const { log } = this.o;
    let failures = 0;
    while (!this.stopped) {
      if (this.current) await this.sleepUntil(renewAt(this.current));
      if (this.stopped) break;
      try {
        const c = await this.obtain();
        this.install(c, this.current ? 'renewed' : 'issued');
        failures = 0;
      } catch (err) {
        if (this.stopped) break;
        failures++;
        this.reportFailure(err as Error);
        const delay = this.retryDelay(failures);
        log.info({ identity: 'retry', inMs: delay }, `operational certificate: trying again in ${formatDuration(delay)}`);
        await this.sleepUntil(Date.now() + delay);
      }
    }
  }

  stop(): void {
    this.stopped = true;
    this.wake?.();
    this.watchStop?.();
  }

  /** The stored pair when it can still be used: key matches, not expired, same node and SANs, not due. */
  private async loadStored(): Promise<ServingCertificate | undefined> {
    const warn = (why: string) => this.o.log.warn({ identity: 'store' }, `operational certificate on disk not used: ${why}`);
    const saved = this.o.store.loadCurrent(warn);
    if (!saved) return undefined;
    try {
      const c = servingCertificate(saved.keyPem, saved.certPem);
      if (Date.now() >= c.notAfter) return void warn('it has expired');
      if (!matchesSubject(c, await this.subject())) return void warn('it does not name this node and its current addresses');
      return c;
    } catch (err) {
      return void warn((err as Error).message);
    }
  }

  private install(c: ServingCertificate, how: 'stored' | 'issued' | 'renewed'): void {
    if (how !== 'stored') this.o.store.saveCurrent(c.keyPem, c.certPem);
    this.current = c;
    this.expiredReported = false;
    const msg = `operational certificate ${how}: serial ${c.serial}, valid until ${new Date(c.notAfter).toISOString()}, renewal at ${new Date(renewAt(c)).toISOString()}`;
    if (how === 'stored') this.o.log.info({ identity: how, serial: c.serial, notAfter: c.notAfter }, msg);
    else this.o.recorder.record('CertificateIssued', msg, { serial: c.serial, san: c.subjectAltName });
    for (const l of this.listeners) l(c);
  }

  private reportFailure(err: Error): void {
    const { recorder, log } = this.o;
    const code = (err as KubeError).code;
    const keeping = this.current
      ? Date.now() < this.current.notAfter
        ? `; the endpoint keeps serving certificate ${this.current.serial} until ${new Date(this.current.notAfter).toISOString()}`
        : `; certificate ${this.current.serial} has expired`
      : '; the management endpoint is not serving yet';
    log.error({ identity: 'error', code, err: err.message }, `operational certificate: ${err.message}${keeping}`);
    if (code === 'KUBE_CERTIFICATE' && / was denied/.test(err.message))
      recorder.record('CertificateDenied', `${err.message}${keeping}`, {}, 'Warning');
    else if (code !== 'KUBE_UNREACHABLE') recorder.record('CertificateFailed', `${err.message}${keeping}`, {}, 'Warning');
    if (this.current && Date.now() >= this.current.notAfter && !this.expiredReported) {
      this.expiredReported = true;
      recorder.record(
        'CertificateExpired',
        `operational certificate ${this.current.serial} has expired and no new one was issued`,
        {},
        'Warning',
      );
    }
  }

  /** After a failure: quick at first, then slower, but always before the current certificate expires. */
  private retryDelay(failures: number): number {
    const first = this.o.tuning?.retryMs ?? 30_000;
    const delay = Math.min(first * 2 ** Math.min(failures - 1, 10), 3_600_000);
    const left = this.current ? this.current.notAfter - Date.now() : Number.POSITIVE_INFINITY;
    return left > 0 ? Math.max(first, Math.min(delay, left / 4)) : delay;
  }

  /** This node's name, host name and addresses (node-subject.ts). */
  subject(): Promise<CsrSubject> {
    const { nodeName, hostName, nodes, log, backendAddresses } = this.o;
    return nodeSubject({ nodeName, hostName, nodes, log, backendAddresses, timeoutMs: this.callMs });
  }

  /** One round: resume or create the CSR, approve it when self-approving, wait for the certificate. */
  private async obtain(): Promise<ServingCertificate> {
    const { api, store, log, nodeName } = this.o;
    const subject = await this.subject();
    let own = await this.resumePending(subject);
    let csr: CsrObject;
    if (own) {
      csr = await api.getCsr(own.name, this.callMs);
      log.info({ identity: 'resume', csr: own.name }, `operational certificate: still waiting for CSR ${own.name}`);
    } else {
      const key = generateOperationalKey();
      csr = await api.createCsr(
        {
          generateName: `guestlink-${nodeName.slice(0, 40)}-`,
          labels: { [CSR_NODE_LABEL]: nodeName },
          requestPem: pem('CERTIFICATE REQUEST', buildCsr(key, subject)),
          signerName: this.o.signerName,
          usages: [...SERVING_USAGES],
          expirationSeconds: this.o.expirationSeconds,
        },
        this.callMs,
      );
      own = { ...this.ownFields(key, subject), name: csr.metadata.name, uid: csr.metadata.uid, username: csr.spec.username };
      store.savePending({ name: own.name, uid: own.uid, keyPem: key.export({ type: 'pkcs8', format: 'pem' }) as string });
    }
    try {
      if (!decided(csr, 'Approved') && !decided(csr, 'Denied')) csr = await this.approveOrAsk(csr, own);
      const issued = await this.waitIssued(csr);
      const certPem = Buffer.from(issued.status?.certificate ?? '', 'base64').toString('utf8');
      const cert = servingCertificate(own.key.export({ type: 'pkcs8', format: 'pem' }) as string, certPem);
      if (Date.now() >= cert.notAfter)
        throw new KubeError('KUBE_CERTIFICATE', `CSR ${own.name}: the issued certificate has already expired`);
      store.clearPending();
      this.cleanUp(own);
      return cert;
    } catch (err) {
      // A decided or unusable request is finished: the next round starts a new one. An API server that
      // cannot be reached, or the agent stopping, leaves it pending, to be picked up again.
      if (!this.stopped && (err as KubeError).code !== 'KUBE_UNREACHABLE') {
        store.clearPending();
        this.cleanUp(own);
      }
      throw err;
    }
  }

  private ownFields(key: KeyObject, subject: CsrSubject) {
    return { key, subject, signerName: this.o.signerName, usages: SERVING_USAGES };
  }

  /** The request saved by an earlier run, if it still exists on the API server unchanged. */
  private async resumePending(subject: CsrSubject): Promise<OwnRequest | undefined> {
    const { store, api, log } = this.o;
    const p = store.loadPending((why) => log.warn({ identity: 'store' }, `pending request on disk not used: ${why}`));
    if (!p) return undefined;
    try {
      const csr = await api.getCsr(p.name, this.callMs);
      const own: OwnRequest = {
        ...this.ownFields(createPrivateKey(p.keyPem), subject),
        name: p.name,
        uid: p.uid,
        username: csr.spec.username,
      };
      if (decided(csr, 'Approved') || decided(csr, 'Denied') || decided(csr, 'Failed')) return own;
      checkOwnCsr(csr, own);
      return own;
    } catch (err) {
      if ((err as KubeError).code === 'KUBE_UNREACHABLE') throw err;
      log.info({ identity: 'resume', csr: p.name, err: (err as Error).message }, 'the pending CSR cannot be resumed; making a new one');
      store.clearPending();
      return undefined;
    }
  }

  private async approveOrAsk(csr: CsrObject, own: OwnRequest): Promise<CsrObject> {
    const { api, recorder, nodeName, log } = this.o;
    if (this.o.approve === 'self') {
      // Read it again: what gets approved is what was checked (its resourceVersion goes with the approval).
      const fresh = await api.getCsr(own.name, this.callMs);
      checkOwnCsr(fresh, own);
      const approved = await api.approveCsr(
        fresh,
        'GuestlinkSelfApproved',
        `guestlink on node ${nodeName} approved its own serving certificate request`,
        this.callMs,
      );
      recorder.record('CertificateApproved', `approved its own CSR ${own.name} (--csr-approve self)`, { csr: own.name });
      return approved;
    }
    const how = `kubectl certificate approve ${own.name}`;
    recorder.record(
      'CertificatePending',
      `operational certificate requested (CSR ${own.name}, signer ${this.o.signerName}); waiting for approval: ${how}`,
      {
        csr: own.name,
      },
    );
    log.warn({ identity: 'approval', csr: own.name }, `the management endpoint waits for its certificate: approve it with \`${how}\``);
    return csr;
  }

  /** Watches the CSR until it carries a certificate; throws when it is denied, fails or is deleted. */
  private async waitIssued(start: CsrObject): Promise<CsrObject> {
    const { api, log } = this.o;
    const name = start.metadata.name;
    let latest = start;
    let rv = start.metadata.resourceVersion;
    for (;;) {
      const denied = decided(latest, 'Denied');
      if (denied)
        throw new KubeError(
          'KUBE_CERTIFICATE',
          `CSR ${name} was denied${denied.reason ? ` (${denied.reason}` : ''}${denied.message ? `: ${denied.message})` : denied.reason ? ')' : ''}`,
        );
      const failed = decided(latest, 'Failed');
      if (failed)
        throw new KubeError(
          'KUBE_CERTIFICATE',
          `CSR ${name} failed${failed.reason ? ` (${failed.reason}` : ''}${failed.message ? `: ${failed.message})` : failed.reason ? ')' : ''}`,
        );
      if (latest.status?.certificate) return latest;
      if (this.stopped) throw new KubeError('KUBE_CERTIFICATE', 'stopped');
      let gone = false;
      const w = api.watchCsr(name, rv, this.o.tuning?.watchSeconds ?? 300, (ev) => {
        const obj = ev.object as CsrObject;
        if (ev.type === 'DELETED') gone = true;
        else if (ev.type === 'ERROR')
          rv = undefined; // 410 Gone: too old; read it again below
        else if (obj?.metadata?.name === name) {
          latest = obj;
          rv = obj.metadata.resourceVersion;
        }
        if (gone || decided(latest, 'Denied') || decided(latest, 'Failed') || latest.status?.certificate) w.stop();
      });
      this.watchStop = w.stop;
      try {
        await w.done;
      } catch (err) {
        log.warn({ identity: 'watch', csr: name, err: (err as Error).message }, 'watching the CSR failed; reading it again');
        await this.sleepUntil(Date.now() + Math.min(this.o.tuning?.retryMs ?? 5000, 5000));
        rv = undefined;
      } finally {
        this.watchStop = undefined;
      }
      if (gone) throw new KubeError('KUBE_CERTIFICATE', `CSR ${name} was deleted before a certificate was issued`);
      if (rv === undefined && !this.stopped) {
        latest = await api.getCsr(name, this.callMs);
        rv = latest.metadata.resourceVersion;
      }
    }
  }

  /** Deletes the CSR object (best effort: the API server's own GC removes it within an hour anyway). */
  private cleanUp(own: OwnRequest): void {
    this.o.api.deleteCsr(own.name, own.uid, this.callMs).then(
      () => this.o.log.debug({ identity: 'cleanup', csr: own.name }, 'CSR deleted'),
      (err: Error) => this.o.log.debug({ identity: 'cleanup', csr: own.name, err: err.message }, 'could not delete the CSR'),
    );
  }

  private async sleepUntil(at: number): Promise<void> {
    while (!this.stopped && Date.now() < at) {
      await new Promise<void>((resolve) => {
        const done = () => {
          clearTimeout(timer);
          this.wake = undefined;
          resolve();
        };
        const timer = setTimeout(done, Math.min(MAX_TIMER_MS, Math.max(1, at - Date.now())));
        timer.unref();
        this.wake = done;
      });
    }
  }
}
