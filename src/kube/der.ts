// A minimal DER (ITU-T X.690) writer and reader: the handful of types a PKCS#10 certification
// request needs (SEQUENCE, SET, OID, INTEGER, strings, OCTET/BIT STRING, context tags), and a strict
// reader to check a request before the agent approves it. Hand-written on purpose: Node has no
// PKCS#10 support, and the libraries that do it cost far more than these ~130 lines (measured
// here, Node 20, median of 3 imports: @peculiar/x509 2.2 ~250-540 ms and +18 MB RSS, plus a
// reflect-metadata polyfill it requires; pkijs 4.0 ~80-117 ms and +13 MB). The key and the
// signature come from node:crypto, so nothing cryptographic is written here.
import { KubeError } from './errors.js';

/** Tags used by certificates and requests (universal class unless noted). */
export const TAG = {
  INTEGER: 0x02,
  BIT_STRING: 0x03,
  OCTET_STRING: 0x04,
  OID: 0x06,
  UTF8_STRING: 0x0c,
  PRINTABLE_STRING: 0x13,
  SEQUENCE: 0x30,
  SET: 0x31,
} as const;

function lengthBytes(n: number): Buffer {
  if (n < 0x80) return Buffer.from([n]);
  const bytes: number[] = [];
  for (let v = n; v > 0; v = Math.floor(v / 256)) bytes.unshift(v & 0xff);
  return Buffer.from([0x80 | bytes.length, ...bytes]);
}

/** One tag-length-value. */
export function tlv(tag: number, ...content: Uint8Array[]): Buffer {
  const body = Buffer.concat(content);
  return Buffer.concat([Buffer.from([tag]), lengthBytes(body.length), body]);
}

export const sequence = (...items: Uint8Array[]): Buffer => tlv(TAG.SEQUENCE, ...items);
export const set = (...items: Uint8Array[]): Buffer => tlv(TAG.SET, ...items);
export const utf8String = (s: string): Buffer => tlv(TAG.UTF8_STRING, Buffer.from(s, 'utf8'));
export const octetString = (b: Uint8Array): Buffer => tlv(TAG.OCTET_STRING, b);
/** A BIT STRING of whole bytes (no unused bits), as signatures are. */
export const bitString = (b: Uint8Array): Buffer => tlv(TAG.BIT_STRING, Buffer.from([0]), b);

/** A small non-negative INTEGER (versions). */
export function smallInteger(n: number): Buffer {
  if (!Number.isInteger(n) || n < 0 || n > 0x7f) throw new RangeError(`smallInteger(${n})`);
  return tlv(TAG.INTEGER, Buffer.from([n]));
}

/** An OBJECT IDENTIFIER from its dotted form (the first two arcs share one base-128 subidentifier). */
export function objectId(dotted: string): Buffer {
  const [a = 0, b = 0, ...rest] = dotted.split('.').map(Number);
  const out: number[] = [];
  for (const arc of [a * 40 + b, ...rest]) {
    const groups: number[] = [arc & 0x7f];
    for (let v = Math.floor(arc / 128); v > 0; v = Math.floor(v / 128)) groups.unshift(0x80 | (v & 0x7f));
    out.push(...groups);
  }
  return tlv(TAG.OID, Buffer.from(out));
}

/** A context-specific tag [n]: constructed (wrapping other elements) or primitive (IMPLICIT strings). */
export function contextTag(n: number, constructed: boolean, ...content: Uint8Array[]): Buffer {
  return tlv(0x80 | (constructed ? 0x20 : 0) | n, ...content);
}

/** One element read back: its tag, its content bytes and the whole encoding. */
export interface DerElement {
  tag: number;
  content: Buffer;
  /** Tag, length and content: for comparing encodings byte for byte. */
  raw: Buffer;
}

const bad = (what: string) => new KubeError('KUBE_CSR', `malformed DER: ${what}`);

/** Reads the element at `offset`; refuses indefinite and non-minimal lengths and overruns (DER is strict). */
export function readElement(buf: Buffer, offset = 0): DerElement {
  if (offset + 2 > buf.length) throw bad('truncated header');
  const tag = buf[offset] as number;
  if ((tag & 0x1f) === 0x1f) throw bad('multi-byte tags are not used here');
  let len = buf[offset + 1] as number;
  let head = 2;
  if (len & 0x80) {
    const n = len & 0x7f;
    if (n === 0 || n > 4) throw bad('indefinite or oversized length');
    if (offset + 2 + n > buf.length) throw bad('truncated length');
    len = 0;
    for (let i = 0; i < n; i++) len = len * 256 + (buf[offset + 2 + i] as number);
    if (len < 0x80 || (buf[offset + 2] as number) === 0) throw bad('non-minimal length');
    head += n;
  }
  const end = offset + head + len;
  if (end > buf.length) throw bad('content runs past the end');
  return { tag, content: buf.subarray(offset + head, end), raw: buf.subarray(offset, end) };
}

/** The elements inside a constructed element, in order. */
export function children(el: DerElement): DerElement[] {
  if (!(el.tag & 0x20)) throw bad(`tag 0x${el.tag.toString(16)} is not constructed`);
  const out: DerElement[] = [];
  for (let at = 0; at < el.content.length; ) {
    const c = readElement(el.content, at);
    out.push(c);
    at += c.raw.length;
  }
  return out;
}

/** Dotted form of an OID element's content. */
export function oidText(content: Buffer): string {
  if (content.length === 0 || ((content[content.length - 1] as number) & 0x80) !== 0) throw bad('truncated OID');
  const subids: number[] = [];
  let v = 0;
  for (const b of content) {
    v = v * 128 + (b & 0x7f);
    if (!(b & 0x80)) {
      subids.push(v);
      v = 0;
    }
  }
  const first = subids.shift() as number;
  const top = Math.min(2, Math.floor(first / 40));
  return [top, first - top * 40, ...subids].join('.');
}
