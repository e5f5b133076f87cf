// Base64 as qemu-ga reads it: qemu's qbase64_decode (only A-Z a-z 0-9 + / = and newline allowed)
// followed by glib's lenient g_base64_decode (quads decoded as they come, '=' counted as a zero digit,
// a trailing partial quad dropped). Clients see exactly which inputs qemu-ga accepts and what it writes.
//
// The text comes as a JS string (short values) or as bytes (a BulkString: long values of bulk arguments,
// protocol/qga/json-bulk.ts). Bytes are decoded straight into the output buffer, without a string in
// between: Node 20 has no Buffer-to-Buffer base64 decoder, and measured here on 21 MiB of base64 a JS
// table decoder that checks and decodes in one pass (~1 GB/s, nothing allocated) beat checking first and
// then decoding latin1 slices natively (670-790 MB/s with 1-4 MiB slices, a string per slice).
import { genericError } from '../protocol/qga/errors.js';
import type { BulkString } from '../protocol/qga/json-bulk.js';

const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';
/** A character's 6-bit value, -1 for anything outside the alphabet ('=' included). */
const VALUE = new Int8Array(256).fill(-1);
for (let i = 0; i < ALPHABET.length; i++) VALUE[ALPHABET.charCodeAt(i)] = i;
/** The lenient decoder's rank: as VALUE, but '=' decodes as zero (its quad's byte count shrinks instead). */
const RANK = Int8Array.from(VALUE);
RANK[0x3d] = 0;
const NEWLINE = 0x0a;
const VALID = /^[A-Za-z0-9+/=\n]*$/;

/**
 * Canonical, padded base64 with nothing to skip: Node's decoder gives the same bytes, natively.
 * A plain scan, not a regular expression: a regex with a repeated group keeps a backtracking
 * entry per quad and overflows V8's stack above ~3 MB of text (guest-file-write of a large chunk).
 */
function isCanonical(text: string): boolean {
  const len = text.length;
  if (len % 4 !== 0) return false;
  const pad = text.endsWith('==') ? 2 : text.endsWith('=') ? 1 : 0;
  for (let i = 0; i < len - pad; i++) {
    const c = text.charCodeAt(i);
    if (c >= 128 || (VALUE[c] as number) < 0) return false;
  }
  return true;
}

/** Thrown for any character outside qemu's set, in qemu-ga's words. */
export function invalidBase64() {
  return genericError('Base64 data contains invalid characters', 'BAD_BASE64');
}

/** Where decoded bytes go: a buffer of at least n bytes (the default allocates one). */
export type OutputBuffer = (n: number) => Buffer;

/**
 * Decodes base64 exactly as qemu-ga 7.2 does; throws qemu-ga's GenericError for invalid characters.
 * The result is a view of a buffer from `output` (the file handler passes a pooled one).
 */
export function decodeBase64(text: string | BulkString, output: OutputBuffer = Buffer.allocUnsafe): Buffer {
  const out = output(Math.floor(text.length / 4) * 3);
  if (typeof text === 'string') {
    if (isCanonical(text)) return out.subarray(0, out.write(text, 0, 'base64'));
    if (!VALID.test(text)) throw invalidBase64();
    const lenient = new LenientDecoder(out);
    lenient.feed(Buffer.from(text, 'latin1'));
    return out.subarray(0, lenient.n);
  }
  const n = decodeCanonical(text, out);
  if (n >= 0) return out.subarray(0, n);
  for (let i = 0; i < text.chunkCount; i++) if (!isQemuBase64(text.chunk(i))) throw invalidBase64();
  const lenient = new LenientDecoder(out);
  for (let i = 0; i < text.chunkCount; i++) lenient.feed(text.chunk(i));
  return out.subarray(0, lenient.n);
}

/** The decoded size of canonical base64 (exact for it; an upper bound otherwise), without decoding. */
export function decodedSize(text: string | BulkString): number {
  const len = text.length;
  const at = (i: number) => (typeof text === 'string' ? text.charCodeAt(i) : text.byteAt(i));
  const pad = len >= 2 && at(len - 1) === 0x3d ? (at(len - 2) === 0x3d ? 2 : 1) : 0;
  return Math.floor((len * 3) / 4) - pad;
}

/**
 * Canonical base64 in chunks (whole quads each: json-bulk's BULK_CHUNK_BYTES is a multiple of 4) into out; the bytes
 * written, or -1 at the first sign it is not canonical (out then holds garbage, and the caller starts over).
 */
function decodeCanonical(text: BulkString, out: Buffer): number {
  const len = text.length;
  if (len % 4 !== 0) return -1;
  if (len === 0) return 0;
  let o = 0;
  const chunks = text.chunkCount;
  for (let k = 0; k < chunks; k++) {
    const c = text.chunk(k);
    // The last quad of all may be padded: it is done apart.
    const end = k === chunks - 1 ? c.length - 4 : c.length;
    for (let i = 0; i < end; i += 4) {
      const a = VALUE[c[i] as number] as number;
      const b = VALUE[c[i + 1] as number] as number;
      const d = VALUE[c[i + 2] as number] as number;
      const e = VALUE[c[i + 3] as number] as number;
      if ((a | b | d | e) < 0) return -1;
      out[o] = (a << 2) | (b >> 4);
      out[o + 1] = ((b & 15) << 4) | (d >> 2);
      out[o + 2] = ((d & 3) << 6) | e;
      o += 3;
    }
  }
  const last = text.chunk(chunks - 1);
  const q = last.length - 4;
  const a = VALUE[last[q] as number] as number;
  const b = VALUE[last[q + 1] as number] as number;
  const c3 = last[q + 2] as number;
  const c4 = last[q + 3] as number;
  if ((a | b) < 0) return -1;
  out[o++] = (a << 2) | (b >> 4);
  if (c3 === 0x3d) return c4 === 0x3d ? o : -1;
  const d = VALUE[c3] as number;
  if (d < 0) return -1;
  out[o++] = ((b & 15) << 4) | (d >> 2);
  if (c4 === 0x3d) return o;
  const e = VALUE[c4] as number;
  if (e < 0) return -1;
  out[o++] = ((d & 3) << 6) | e;
  return o;
}

/** Whether every byte is in qemu's set (A-Z a-z 0-9 + / = and newline). */
function isQemuBase64(bytes: Uint8Array): boolean {
  for (let i = 0; i < bytes.length; i++) {
    const c = bytes[i] as number;
    if ((RANK[c] as number) < 0 && c !== NEWLINE) return false;
  }
  return true;
}

/** glib's g_base64_decode over bytes already checked by qemu's rule, fed in pieces. */
class LenientDecoder {
  n = 0;
  private v = 0;
  private quad = 0;
  private last0 = 0;
  private last1 = 0;

  constructor(private readonly out: Buffer) {}

  feed(bytes: Uint8Array): void {
    const out = this.out;
    let n = this.n;
    let v = this.v;
    let quad = this.quad;
    let last0 = this.last0;
    let last1 = this.last1;
    for (let i = 0; i < bytes.length; i++) {
      const c = bytes[i] as number;
      if (c === NEWLINE) continue;
      last1 = last0;
      last0 = c;
      v = ((v << 6) | (RANK[c] as number)) & 0xffffff;
      if (++quad === 4) {
        out[n++] = v >> 16;
        if (last1 !== 0x3d) out[n++] = (v >> 8) & 0xff;
        if (last0 !== 0x3d) out[n++] = v & 0xff;
        quad = 0;
      }
    }
    this.n = n;
    this.v = v;
    this.quad = quad;
    this.last0 = last0;
    this.last1 = last1;
  }
}
