// A serving certificate and its key as the TLS endpoint uses them, checked once when they arrive:
// the key matches the leaf, the dates are read, and whether it still names this node as wanted.
import { createPrivateKey, X509Certificate } from 'node:crypto';
import { type CsrSubject, canonicalIp, NODE_USER_PREFIX } from './csr.js';
import { KubeError } from './errors.js';

export interface ServingCertificate {
  keyPem: string;
  /** The leaf first, then any intermediates the signer returned. */
  certPem: string;
  notBefore: number;
  notAfter: number;
  /** Hex serial of the leaf: for logs and for tests to tell certificates apart. */
  serial: string;
  /** The leaf's subject and SANs as OpenSSL prints them (logs). */
  subject: string;
  subjectAltName: string;
}

/** Every PEM certificate block in a text (a chain). */
export function pemCertificates(text: string): string[] {
  return text.match(/-----BEGIN CERTIFICATE-----[\s\S]*?-----END CERTIFICATE-----/g) ?? [];
}

/** Checks a key and certificate chain belong together; KUBE_CERTIFICATE with the reason otherwise. */
export function servingCertificate(keyPem: string, certPem: string): ServingCertificate {
  const [leafPem] = pemCertificates(certPem);
  if (!leafPem) throw new KubeError('KUBE_CERTIFICATE', "no PEM certificate in the signer's answer");
  let leaf: X509Certificate;
  try {
    leaf = new X509Certificate(leafPem);
  } catch (err) {
    throw new KubeError('KUBE_CERTIFICATE', `the certificate cannot be read: ${(err as Error).message}`);
  }
  let key: ReturnType<typeof createPrivateKey>;
  try {
    key = createPrivateKey(keyPem);
  } catch (err) {
    throw new KubeError('KUBE_CERTIFICATE', `the key cannot be read: ${(err as Error).message}`);
  }
  if (!leaf.checkPrivateKey(key)) throw new KubeError('KUBE_CERTIFICATE', 'the certificate is not for this key');
  return {
    keyPem,
    certPem: `${pemCertificates(certPem).join('\n')}\n`,
    notBefore: Date.parse(leaf.validFrom),
    notAfter: Date.parse(leaf.validTo),
    serial: leaf.serialNumber,
    subject: leaf.subject.replace(/\n/g, ', '),
    subjectAltName: leaf.subjectAltName ?? '',
  };
}

/** When to renew: two thirds into the lifetime (the kubelet renews between 70 and 90 %). */
export function renewAt(c: Pick<ServingCertificate, 'notBefore' | 'notAfter'>): number {
  return c.notBefore + ((c.notAfter - c.notBefore) * 2) / 3;
}

/** The SANs of a certificate as sorted "DNS:x" / "IP:y" strings. */
function sans(subjectAltName: string): string[] {
  const out: string[] = [];
  for (const part of subjectAltName.split(/,\s*/)) {
    const m = /^(DNS|IP Address):(.*)$/.exec(part.trim());
    if (m) out.push(m[1] === 'DNS' ? `DNS:${m[2]}` : `IP:${canonicalIp(m[2] as string)}`);
    else if (part.trim() !== '') out.push(`OTHER:${part.trim()}`);
  }
  return out.sort();
}

/** The SANs a request for `s` asks for, in the same form. */
export function wantedSans(s: Pick<CsrSubject, 'dnsNames' | 'ips'>): string[] {
  return [...s.dnsNames.map((d) => `DNS:${d}`), ...s.ips.map((ip) => `IP:${canonicalIp(ip)}`)].sort();
}

/** True when the certificate names exactly this node and these addresses (else a new one is requested). */
export function matchesSubject(c: ServingCertificate, s: CsrSubject): boolean {
  if (!c.subject.split(', ').includes(`CN=${NODE_USER_PREFIX}${s.nodeName}`)) return false;
  return JSON.stringify(sans(c.subjectAltName)) === JSON.stringify(wantedSans(s));
}
