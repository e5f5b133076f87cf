// The JSON values QGA carries, with lossless 64-bit integers, and the writer that prints them as qemu does.
import { BulkString } from './json-bulk.js';
import { Base64Bytes } from './json-reply.js';

// The reply side's bulk data lives in json-reply.ts; these names stay importable from here.
export { Base64Bytes, base64EncodeInto, partsToBuffer } from './json-reply.js';

/**
 * A JSON value; integers outside the safe range stay exact as bigint (sync ids, nanosecond times). Bulk data
 * stays bytes: BulkString in requests (json-bulk.ts), Base64Bytes in replies.
 */
export type JsonValue = null | boolean | number | bigint | string | BulkString | JsonFloat | Base64Bytes | JsonValue[] | JsonObject;
export type JsonObject = { [key: string]: JsonValue | undefined };

/**
 * The prototype of every parsed JSON object: an empty frozen object that itself has none. A parsed object so
 * inherits nothing (no toString, no __proto__ setter: a "__proto__" key is an own member like any other), as
 * with Object.create(null); but V8 keeps Object.create(null) objects in dictionary mode, while these get
 * hidden classes shared by all objects with the same keys: adding and enumerating members is ~2x cheaper.
 */
const JSON_OBJECT_PROTO: object = Object.freeze(Object.create(null));

/** A new empty object for parsed JSON (see JSON_OBJECT_PROTO). */
export function newJsonObject(): JsonObject {
  return Object.create(JSON_OBJECT_PROTO);
}

/** Marks a JSON float so that `1.0` stays a float through a round trip (QAPI 'number'). */
export class JsonFloat {
  constructor(readonly value: number) {}
}

const NEEDS_ESCAPE = /["\\\u0000-\u001f\u007f-\uffff]/;

/** Whether a string can be written between quotes as it is; a plain loop beats the regex on the short strings replies are made of. */
function isPlain(s: string): boolean {
  if (s.length > 64) return !NEEDS_ESCAPE.test(s);
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x20 || c >= 0x7f || c === 0x22 || c === 0x5c) return false;
  }
  return true;
}

/** Quotes a string the way qemu's json-writer does: non-ASCII and DEL as upper-case \uXXXX. */
export function quoteString(s: string): string {
  if (isPlain(s)) return `"${s}"`;
  let out = '"';
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    switch (c) {
      case 0x22:
        out += '\\"';
        break;
      case 0x5c:
        out += '\\\\';
        break;
      case 0x08:
        out += '\\b';
        break;
      case 0x0c:
        out += '\\f';
        break;
      case 0x0a:
        out += '\\n';
        break;
      case 0x0d:
        out += '\\r';
        break;
      case 0x09:
        out += '\\t';
        break;
      default:
        if (c < 0x20 || c >= 0x7f) {
          // Lone surrogates are not valid characters: qemu writes U+FFFD for invalid UTF-8.
          let cp = c;
          if (c >= 0xd800 && c <= 0xdbff) {
            const d = s.charCodeAt(i + 1);
            if (d >= 0xdc00 && d <= 0xdfff) {
              out += `\\u${hex4(c)}\\u${hex4(d)}`;
              i++;
              break;
            }
            cp = 0xfffd;
          } else if (c >= 0xdc00 && c <= 0xdfff) {
            cp = 0xfffd;
          }
          out += `\\u${hex4(cp)}`;
        } else {
          out += s[i];
        }
    }
  }
  return `${out}"`;
}

function hex4(n: number): string {
  return n.toString(16).toUpperCase().padStart(4, '0');
}

/** Pieces of a serialised value: text, and base64 payloads kept as bytes until the reply buffer is built. */
export type JsonParts = (string | Base64Bytes)[];

/** Serialises a value in qemu's compact style: `{"a": 1, "b": [1, 2]}` (space after ':' and ','). */
export function writeJson(v: JsonValue | undefined): string {
  const parts: JsonParts = [];
  const tail = writeParts(v, '', parts);
  if (parts.length === 0) return tail;
  let out = '';
  for (const p of parts) out += typeof p === 'string' ? p : `"${base64Text(p.bytes)}"`;
  return out + tail;
}

function base64Text(b: Uint8Array): string {
  return Buffer.from(b.buffer, b.byteOffset, b.length).toString('base64');
}

/** Serialises into `parts`; returns the trailing text not yet pushed (callers append it). */
export function writeParts(v: JsonValue | undefined, out: string, parts: JsonParts): string {
  if (v === null || v === undefined) return `${out}null`;
  switch (typeof v) {
    case 'string':
      return out + quoteString(v);
    case 'number':
      return out + (Number.isInteger(v) ? String(v) : formatFloat(v));
    case 'bigint':
      return out + v.toString();
    case 'boolean':
      return out + (v ? 'true' : 'false');
  }
  if (v instanceof JsonFloat) return out + formatFloat(v.value);
  if (v instanceof BulkString) return out + quoteString(v.toString());
  if (v instanceof Base64Bytes) {
    parts.push(out, v);
    return '';
  }
  if (Array.isArray(v)) {
    if (v.length === 0) return `${out}[]`;
    out += '[';
    for (let i = 0; i < v.length; i++) {
      if (i > 0) out += ', ';
      out = writeParts(v[i], out, parts);
    }
    return `${out}]`;
  }
  out += '{';
  let first = true;
  for (const key of Object.keys(v)) {
    const item = (v as JsonObject)[key];
    if (item === undefined) continue; // optional members left out, as QAPI does
    out += first ? '' : ', ';
    first = false;
    out = writeParts(item, out + quotedKey(key), parts);
  }
  return `${out}}`;
}

/**
 * `"key": ` for object members. Reply keys come from the QAPI schema (a few hundred names at most), and
 * guest-info alone writes ~150 of them per reply: quoted once, then looked up. Bounded, in case a handler
 * ever returns data-derived keys.
 */
const quotedKeys = new Map<string, string>();
function quotedKey(key: string): string {
  let q = quotedKeys.get(key);
  if (q === undefined) {
    q = `${quoteString(key)}: `;
    if (quotedKeys.size < 1024) quotedKeys.set(key, q);
  }
  return q;
}

function formatFloat(n: number): string {
  // C's "%.17g", which qemu's json-writer uses for doubles (non-finite values print as inf/nan there too).
  if (Number.isNaN(n)) return 'nan';
  if (!Number.isFinite(n)) return n > 0 ? 'inf' : '-inf';
  if (n === 0) return Object.is(n, -0) ? '-0' : '0';
  const [mant, expText] = n.toExponential(16).split('e') as [string, string];
  const exp = Number(expText);
  const trim = (s: string) => (s.includes('.') ? s.replace(/0+$/, '').replace(/\.$/, '') : s);
  if (exp < -4 || exp >= 17) return `${trim(mant)}e${exp < 0 ? '-' : '+'}${String(Math.abs(exp)).padStart(2, '0')}`;
  return trim(n.toFixed(16 - exp));
}

/** Converts a JSON integer to a JS number when it fits, else a bigint; floats stay numbers. */
export function isInteger(v: unknown): v is number | bigint {
  return typeof v === 'bigint' || (typeof v === 'number' && Number.isInteger(v));
}

export function isObject(v: unknown): v is JsonObject {
  return (
    typeof v === 'object' &&
    v !== null &&
    !Array.isArray(v) &&
    !(v instanceof JsonFloat) &&
    !(v instanceof Base64Bytes) &&
    !(v instanceof BulkString)
  );
}

/** A JSON string as it came: a JS string, or bulk data kept as bytes (json-bulk.ts). */
export function isJsonString(v: unknown): v is string | BulkString {
  return typeof v === 'string' || v instanceof BulkString;
}
