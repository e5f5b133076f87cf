// Base64 as qemu-ga reads it: qemu's qbase64_decode (only A-Z a-z 0-9 + / = and newline allowed)
// followed by glib's lenient g_base64_decode (quads decoded as they come, '=' counted as a zero digit,
// a trailing partial quad dropped). Clients see exactly which inputs qemu-ga accepts and what it writes.
import { genericError } from '../protocol/qga/errors.js';

const RANK = new Int8Array(128).fill(-1);
const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';
for (let i = 0; i < ALPHABET.length; i++) RANK[ALPHABET.charCodeAt(i)] = i;
RANK[0x3d] = 0; // '=' decodes as zero; the byte count of its quad shrinks instead.
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
    if (c >= 128 || c === 0x3d || (RANK[c] as number) < 0) return false;
  }
  return true;
}

/** Thrown for any character outside qemu's set, in qemu-ga's words. */
export function invalidBase64() {
  return genericError('Base64 data contains invalid characters', 'BAD_BASE64');
}

/** Decodes base64 exactly as qemu-ga 7.2 does; throws qemu-ga's GenericError for invalid characters. */
export function decodeBase64(text: string): Buffer {
  if (isCanonical(text)) return Buffer.from(text, 'base64');
  if (!VALID.test(text)) throw invalidBase64();
  const out = Buffer.allocUnsafe(Math.floor(text.length / 4) * 3);
  let n = 0;
  let v = 0;
  let quad = 0;
  let last0 = 0;
  let last1 = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    const rank = RANK[c] as number;
    if (rank < 0) continue; // newline
    last1 = last0;
    last0 = c;
    v = ((v << 6) | rank) & 0xffffff;
    if (++quad === 4) {
      out[n++] = v >> 16;
      if (last1 !== 0x3d) out[n++] = (v >> 8) & 0xff;
      if (last0 !== 0x3d) out[n++] = v & 0xff;
      quad = 0;
    }
  }
  return out.subarray(0, n);
}
