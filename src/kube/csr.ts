// The node's operational key and its PKCS#10 certification request (RFC 2986), and the reverse:
// reading a request back to check, before approving it, that it is exactly the one this node made.
// The subject is what the kubernetes.io/kubelet-serving signer requires (O=system:nodes,
// CN=system:node:<node>), the SANs are DNS names and IP addresses only, and the key is ECDSA P-256,
// generated here and never sent anywhere.
import { createPublicKey, generateKeyPairSync, type KeyObject, sign } from 'node:crypto';
import net from 'node:net';
import {
  bitString,
  children,
  contextTag,
  type DerElement,
  objectId,
  octetString,
  oidText,
  readElement,
  sequence,
  set,
  smallInteger,
  TAG,
  utf8String,
} from './der.js';
import { KubeError } from './errors.js';

const OID = {
  ecdsaWithSha256: '1.2.840.10045.4.3.2',
  organization: '2.5.4.10',
  commonName: '2.5.4.3',
  extensionRequest: '1.2.840.113549.1.9.14',
  subjectAltName: '2.5.29.17',
} as const;

/** What the certificate is to say about this node. */
export interface CsrSubject {
  /** The Kubernetes Node name: CN=system:node:<nodeName>. */
  nodeName: string;
  /** DNS SANs (the node name, the host name). */
  dnsNames: readonly string[];
  /** IP SANs (the Node's InternalIP/ExternalIP addresses). */
  ips: readonly string[];
}

/** The groups and user prefix the kubelet-serving signer insists on. */
export const NODE_GROUP = 'system:nodes';
export const NODE_USER_PREFIX = 'system:node:';

/** A fresh ECDSA P-256 key (what the kubelet uses for its serving certificate). */
export function generateOperationalKey(): KeyObject {
  return generateKeyPairSync('ec', { namedCurve: 'prime256v1' }).privateKey;
}

/** 4 or 16 bytes for an IPv4 or IPv6 address (iPAddress in GeneralName). */
export function ipBytes(ip: string): Buffer {
  if (net.isIPv4(ip)) return Buffer.from(ip.split('.').map(Number));
  if (!net.isIPv6(ip)) throw new KubeError('KUBE_CSR', `"${ip}" is not an IP address`);
  let text = ip.replace(/%.*$/, '');
  // A trailing dotted quad (::ffff:1.2.3.4) becomes two hex groups.
  const quad = /(\d+\.\d+\.\d+\.\d+)$/.exec(text);
  if (quad) {
    const b = ipBytes(quad[1] as string);
    text = `${text.slice(0, quad.index)}${b.readUInt16BE(0).toString(16)}:${b.readUInt16BE(2).toString(16)}`;
  }
  const [head = '', tail] = text.split('::');
  const h = head ? head.split(':') : [];
  const t = tail ? tail.split(':') : [];
  const groups = [...h, ...Array(8 - h.length - t.length).fill('0'), ...t];
  const out = Buffer.alloc(16);
  for (const [i, g] of groups.entries()) out.writeUInt16BE(Number.parseInt(g, 16), i * 2);
  return out;
}

/** The text form of a 4- or 16-byte iPAddress (IPv6 in full lower-case groups, zeros compressed). */
export function ipText(b: Buffer): string {
  if (b.length === 4) return [...b].join('.');
  if (b.length !== 16) throw new KubeError('KUBE_CSR', `an iPAddress SAN of ${b.length} bytes`);
  const groups = Array.from({ length: 8 }, (_, i) => b.readUInt16BE(i * 2).toString(16));
  // Longest run of zero groups (length >= 2) becomes "::", as RFC 5952 writes it.
  let best = -1;
  let bestLen = 1;
  for (let i = 0; i < 8; ) {
    let j = i;
    while (j < 8 && groups[j] === '0') j++;
    if (j - i > bestLen) [best, bestLen] = [i, j - i];
    i = j === i ? i + 1 : j;
  }
  if (best < 0) return groups.join(':');
  return `${groups.slice(0, best).join(':')}::${groups.slice(best + bestLen).join(':')}`;
}

/** Normalises an IP's text so that sets of SANs compare (::1 and 0:0::1 are one address). */
export const canonicalIp = (ip: string): string => ipText(ipBytes(ip));

function name(subject: CsrSubject): Buffer {
  // Go's pkix.Name order (O before CN), as the kubelet's own requests are encoded.
  return sequence(
    set(sequence(objectId(OID.organization), utf8String(NODE_GROUP))),
    set(sequence(objectId(OID.commonName), utf8String(`${NODE_USER_PREFIX}${subject.nodeName}`))),
  );
}

function subjectAltNames(subject: CsrSubject): Buffer {
  const names = [
    ...subject.dnsNames.map((d) => contextTag(2, false, Buffer.from(d, 'ascii'))),
    ...subject.ips.map((ip) => contextTag(7, false, ipBytes(ip))),
  ];
  return sequence(objectId(OID.subjectAltName), octetString(sequence(...names)));
}

/** A DER PKCS#10 request for `subject`, signed with `key` (ECDSA with SHA-256). */
export function buildCsr(key: KeyObject, subject: CsrSubject): Buffer {
  if (subject.dnsNames.length + subject.ips.length === 0)
    throw new KubeError('KUBE_CSR', 'a serving certificate needs at least one DNS name or IP address');
  for (const d of subject.dnsNames) if (!/^[A-Za-z0-9*.-]+$/.test(d)) throw new KubeError('KUBE_CSR', `"${d}" is not a DNS name`);
  const spki = createPublicKey(key).export({ type: 'spki', format: 'der' });
  const extensions = sequence(subjectAltNames(subject));
  const attributes = contextTag(0, true, sequence(objectId(OID.extensionRequest), set(extensions)));
  const info = sequence(smallInteger(0), name(subject), spki, attributes);
  const signature = sign('sha256', info, { key, dsaEncoding: 'der' });
  return sequence(info, sequence(objectId(OID.ecdsaWithSha256)), bitString(signature));
}

/** PEM armour (the CSR API takes the PEM text, base64-encoded once more in JSON). */
export function pem(label: string, der: Buffer): string {
  const b64 = der.toString('base64').replace(/(.{64})/g, '$1\n');
  return `-----BEGIN ${label}-----\n${b64}${b64.endsWith('\n') ? '' : '\n'}-----END ${label}-----\n`;
}

/** What a request says, as far as approving it is concerned. */
export interface ParsedCsr {
  commonName: string | undefined;
  organizations: string[];
  dnsNames: string[];
  ips: string[];
  /** Names of any other kind (email, URI, ...): the kubelet-serving signer refuses them. */
  otherNames: number;
  /** The SubjectPublicKeyInfo, DER: compared with the key this node holds. */
  publicKey: Buffer;
}

/** The DER inside a PEM block with `label`; the first such block. */
export function pemBody(text: string, label: string): Buffer {
  const m = new RegExp(`-----BEGIN ${label}-----([\\s\\S]*?)-----END ${label}-----`).exec(text);
  if (!m) throw new KubeError('KUBE_CSR', `no ${label} PEM block`);
  return Buffer.from((m[1] as string).replace(/\s+/g, ''), 'base64');
}

function readName(el: DerElement, out: ParsedCsr): void {
  for (const rdn of children(el))
    for (const atv of children(rdn)) {
      const [type, value] = children(atv);
      if (!type || !value) continue;
      const oid = oidText(type.content);
      const text = value.content.toString('utf8');
      if (oid === OID.organization) out.organizations.push(text);
      else if (oid === OID.commonName) out.commonName = text;
    }
}

function readExtensions(attributes: DerElement, out: ParsedCsr): void {
  for (const attr of children(attributes)) {
    const [type, values] = children(attr);
    if (!type || !values || oidText(type.content) !== OID.extensionRequest) continue;
    for (const exts of children(values))
      for (const ext of children(exts)) {
        const parts = children(ext);
        if (oidText((parts[0] as DerElement).content) !== OID.subjectAltName) continue;
        const value = parts[parts.length - 1] as DerElement;
        for (const gn of children(readElement(value.content))) {
          if (gn.tag === 0x82) out.dnsNames.push(gn.content.toString('ascii'));
          else if (gn.tag === 0x87) out.ips.push(ipText(gn.content));
          else out.otherNames++;
        }
      }
  }
}

/** Reads a PEM or DER request; throws KUBE_CSR when it is not a well-formed PKCS#10 request. */
export function parseCsr(request: string | Buffer): ParsedCsr {
  const der = typeof request === 'string' ? pemBody(request, 'CERTIFICATE REQUEST') : request;
  const top = readElement(der);
  if (top.tag !== TAG.SEQUENCE || top.raw.length !== der.length) throw new KubeError('KUBE_CSR', 'not a single DER SEQUENCE');
  const [info] = children(top);
  const fields = info ? children(info) : [];
  const [version, subject, spki, attributes] = fields;
  if (!version || version.tag !== TAG.INTEGER || !subject || !spki || !attributes || attributes.tag !== 0xa0)
    throw new KubeError('KUBE_CSR', 'not a PKCS#10 CertificationRequestInfo');
  const out: ParsedCsr = { commonName: undefined, organizations: [], dnsNames: [], ips: [], otherNames: 0, publicKey: spki.raw };
  readName(subject, out);
  readExtensions(attributes, out);
  return out;
}
