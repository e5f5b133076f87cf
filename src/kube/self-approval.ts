// Self approval (--csr-approve self): before the agent approves a CSR it checks that the CSR is the
// one it created (name, uid, requester), for its own node (CN, O), with exactly its own SANs and its
// own public key, for the configured signer and usages, and not decided yet. The approval is then
// sent with the resourceVersion that was checked, so a CSR replaced in between (deleted and
// re-created under the same name) gets a 409 instead of an approval.
import { createPublicKey, type KeyObject } from 'node:crypto';
import { type CsrSubject, NODE_GROUP, NODE_USER_PREFIX, parseCsr } from './csr.js';
import { KubeError } from './errors.js';
import type { CsrObject } from './identity-api.js';
import { wantedSans } from './serving-cert.js';

/** What the agent knows about the CSR it created. */
export interface OwnRequest {
  name: string;
  uid: string;
  /** The requester the API server recorded when the agent created it (spec.username). */
  username: string | undefined;
  signerName: string;
  usages: readonly string[];
  key: KeyObject;
  subject: CsrSubject;
}

const same = (a: readonly string[], b: readonly string[]) => JSON.stringify([...a].sort()) === JSON.stringify([...b].sort());

/** Throws KUBE_CSR naming the first difference; returns when `csr` is exactly `own`. */
export function checkOwnCsr(csr: CsrObject, own: OwnRequest): void {
  const refuse = (why: string): never => {
    throw new KubeError('KUBE_CSR', `refusing to approve CSR ${csr.metadata?.name}: ${why}`);
  };
  if (csr.metadata?.name !== own.name) refuse(`it is not ${own.name}`);
  if (csr.metadata.uid !== own.uid) refuse(`its uid ${csr.metadata.uid} is not ${own.uid}, the one this node created (replaced?)`);
  if (own.username !== undefined && csr.spec?.username !== own.username)
    refuse(`it was requested by ${csr.spec?.username}, not by this agent (${own.username})`);
  if (csr.spec.signerName !== own.signerName) refuse(`its signer is ${csr.spec.signerName}, not ${own.signerName}`);
  if (!same(csr.spec.usages ?? [], own.usages))
    refuse(`its usages ${JSON.stringify(csr.spec.usages)} are not ${JSON.stringify(own.usages)}`);
  const decided = (csr.status?.conditions ?? []).find((c) => ['Approved', 'Denied', 'Failed'].includes(c.type));
  if (decided) refuse(`it is already ${decided.type}`);
  let request: ReturnType<typeof parseCsr>;
  try {
    request = parseCsr(Buffer.from(csr.spec.request, 'base64').toString('utf8'));
  } catch (err) {
    return refuse((err as Error).message);
  }
  const ourKey = createPublicKey(own.key).export({ type: 'spki', format: 'der' });
  if (!request.publicKey.equals(ourKey)) refuse('its public key is not the key this node generated');
  if (request.commonName !== `${NODE_USER_PREFIX}${own.subject.nodeName}`)
    refuse(`it names ${request.commonName}, not ${NODE_USER_PREFIX}${own.subject.nodeName}`);
  if (!same(request.organizations, [NODE_GROUP]))
    refuse(`its organizations ${JSON.stringify(request.organizations)} are not ["${NODE_GROUP}"]`);
  if (request.otherNames > 0) refuse('it carries names other than DNS names and IP addresses');
  const theirs = wantedSans({ dnsNames: request.dnsNames, ips: request.ips });
  const ours = wantedSans(own.subject);
  if (JSON.stringify(theirs) !== JSON.stringify(ours)) refuse(`its SANs ${theirs.join(', ')} are not this node's (${ours.join(', ')})`);
}
