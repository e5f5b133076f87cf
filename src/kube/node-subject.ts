// What the node's serving certificate names: the Node's name, the host name (when it is a valid DNS
// name), and the addresses clients reach the node at — the Node object's InternalIP and ExternalIP
// (what the kubelet reports and what node:// connects to), else the back end's own addresses.
import type { Logger } from 'pino';
import type { KubeApi } from './api.js';
import { type CsrSubject, canonicalIp } from './csr.js';

export interface SubjectSources {
  nodeName: string;
  hostName: string;
  nodes: KubeApi;
  backendAddresses: () => Promise<string[]>;
  log: Logger;
  timeoutMs: number;
}

/** The subject and SANs for this node now (addresses can change between renewals). */
export async function nodeSubject(o: SubjectSources): Promise<CsrSubject> {
  const dns = new Set([o.nodeName]);
  const ips = new Set<string>();
  try {
    const node = await o.nodes.getNode(o.nodeName, o.timeoutMs);
    for (const a of node.status?.addresses ?? []) {
      if ((a.type === 'InternalIP' || a.type === 'ExternalIP') && a.address) ips.add(canonicalIp(a.address));
      if (a.type === 'Hostname' && /^[a-z0-9]([a-z0-9.-]*[a-z0-9])?$/.test(a.address)) dns.add(a.address);
    }
  } catch (err) {
    o.log.warn({ identity: 'subject', err: (err as Error).message }, "cannot read the Node object for its addresses; using the back end's");
  }
  if (ips.size === 0) for (const ip of await o.backendAddresses()) ips.add(canonicalIp(ip));
  const host = o.hostName.toLowerCase();
  if (/^[a-z0-9]([a-z0-9.-]*[a-z0-9])?$/.test(host)) dns.add(host);
  return { nodeName: o.nodeName, dnsNames: [...dns], ips: [...ips] };
}
