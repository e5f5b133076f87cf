// The QMP envelope of a request and of a reply: what qemu's qmp_dispatch checks before any command runs.
import { errors, genericError, type QgaError } from './errors.js';
import { isObject, type JsonObject, type JsonParts, type JsonValue, newJsonObject, writeJson, writeParts } from './json-value.js';

export interface Request {
  execute: string;
  arguments: JsonObject;
  /** Present when the client sent one; echoed in the reply. */
  id?: JsonValue;
}

/**
 * Replies echo a request's id as it came (qemu-ga echoes any). One whose JSON would be longer than this is
 * refused instead: 64 MiB of DEL bytes in an id would be a 384 MiB reply (each written as \u007F).
 */
export const MAX_ECHO_BYTES = 1 << 20;

/** Checks a parsed value the way qmp_dispatch does; throws the QgaError to send back (with the id when known). */
export function parseRequest(value: JsonValue): Request {
  if (!isObject(value)) throw errors.notAnObject();
  // A value the reader hands on again (json-fast-path.ts remembers a flat message: frozen) gets its Request
  // once: nothing is made per request for a host sending the same bytes over and over.
  const frozen = Object.isFrozen(value);
  if (frozen) {
    const known = repeatedRequests.get(value);
    if (known !== undefined) return known;
  }
  // Nearly every request is well formed, and then the order qemu checks the members in cannot matter:
  // take it without hashing the keys.
  const req = wellFormed(value) ?? checkEnvelope(value);
  if (req.id !== undefined && echoTooLong(req.id)) throw idTooLong();
  if (frozen) repeatedRequests.set(value, Object.freeze(req));
  return req;
}

/** The Requests of frozen (handed on again) values, made once each. */
const repeatedRequests = new WeakMap<JsonObject, Request>();

/**
 * The request, or the error qemu would find first: it checks the members in its QDict's iteration order
 * (see qdictOrder), so the first bad member in that order wins. Found in one pass, without sorting: an
 * object of 500k members is an attack, not a request.
 */
function checkEnvelope(value: JsonObject): Request {
  const keys = Object.keys(value);
  let first: string | undefined;
  let firstBucket = Number.POSITIVE_INFINITY;
  let firstIndex = -1;
  for (let index = 0; index < keys.length; index++) {
    const key = keys[index] as string;
    const v = value[key];
    const bad = key === 'execute' ? typeof v !== 'string' : key === 'arguments' ? !isObject(v) : key !== 'id';
    if (!bad) continue;
    const bucket = qdictBucket(key);
    if (bucket < firstBucket || (bucket === firstBucket && index > firstIndex)) {
      first = key;
      firstBucket = bucket;
      firstIndex = index;
    }
  }
  if (first === 'execute') throw errors.memberNotString('execute');
  if (first === 'arguments') throw errors.argumentsNotObject();
  // exec-oob included: QGA has no out-of-band execution.
  if (first !== undefined) throw errors.memberUnexpected(first);
  const { execute, arguments: args } = value;
  if (typeof execute !== 'string') throw errors.lacksExecute();
  const req: Request = { execute, arguments: (args as JsonObject | undefined) ?? NO_ARGUMENTS };
  if (Object.hasOwn(value, 'id')) req.id = value.id as JsonValue;
  return req;
}

/** The request when the envelope has nothing wrong with it, else undefined (the caller then finds the error in qemu's order). */
function wellFormed(value: JsonObject): Request | undefined {
  const { execute, arguments: args } = value;
  if (typeof execute !== 'string' || (args !== undefined && !isObject(args))) return undefined;
  for (const key in value) if (key !== 'execute' && key !== 'arguments' && key !== 'id') return undefined;
  const req: Request = { execute, arguments: args ?? NO_ARGUMENTS };
  if (Object.hasOwn(value, 'id')) req.id = value.id as JsonValue;
  return req;
}

function idTooLong() {
  return genericError(
    `the request's id is longer than ${MAX_ECHO_BYTES} bytes as JSON (guestlink's limit; qemu-ga has none): use a shorter id`,
    'BAD_REQUEST',
  );
}

/** Whether writeJson(v) would be longer than MAX_ECHO_BYTES; stops counting as soon as it is. */
function echoTooLong(v: JsonValue): boolean {
  return echoLeft(v, MAX_ECHO_BYTES) < 0;
}

/** `left` minus the length of writeJson(v) (an upper bound for numbers), or a negative number once below 0. */
function echoLeft(v: JsonValue | undefined, left: number): number {
  if (left < 0) return left;
  if (typeof v === 'string') {
    // Each character takes 1 to 6 bytes (\uXXXX): count them only when the bounds do not decide it.
    if (v.length + 2 > left) return -1;
    if (v.length * 6 + 2 <= left) return left - v.length * 6 - 2;
    left -= 2;
    for (let i = 0; i < v.length && left >= 0; i++) {
      const c = v.charCodeAt(i);
      left -= c >= 0x20 && c < 0x7f ? (c === 0x22 || c === 0x5c ? 2 : 1) : 6;
    }
    return left;
  }
  if (Array.isArray(v)) {
    left -= 2;
    for (let i = 0; i < v.length && left >= 0; i++) left = echoLeft(v[i], left - 2);
    return left;
  }
  if (isObject(v)) {
    left -= 2;
    for (const key in v) {
      if (left < 0) break;
      left = echoLeft(v[key], echoLeft(key, left - 4));
    }
    return left;
  }
  // Numbers (%.17g, 64-bit integers), booleans and null: at most 24 characters.
  return left - 24;
}

/** The arguments of a request that sent none: one shared frozen object (handlers only read their arguments). */
const NO_ARGUMENTS: JsonObject = Object.freeze(newJsonObject());

const utf8 = new TextEncoder();

/** The bucket qemu's QDict puts a key in: tdb_hash() of its bytes (up to a NUL) modulo 512 buckets. */
function qdictBucket(key: string): number {
  // ASCII keys (all real ones) are their own bytes: no encoding, no allocation.
  let n = 0;
  while (n < key.length) {
    const c = key.charCodeAt(n);
    if (c === 0 || c >= 0x80) break;
    n++;
  }
  if (n < key.length && key.charCodeAt(n) !== 0) return bucketOf(utf8.encode(key));
  let value = Math.imul(0x238f13af, n) >>> 0;
  for (let i = 0; i < n; i++) value = (value + (key.charCodeAt(i) << ((i * 5) % 24))) >>> 0;
  return ((Math.imul(1103515243, value) + 12345) >>> 0) % 512;
}

function bucketOf(bytes: Uint8Array): number {
  let n = bytes.indexOf(0);
  if (n < 0) n = bytes.length;
  let value = Math.imul(0x238f13af, n) >>> 0;
  for (let i = 0; i < n; i++) value = (value + ((bytes[i] as number) << ((i * 5) % 24))) >>> 0;
  return ((Math.imul(1103515243, value) + 12345) >>> 0) % 512;
}

/**
 * The keys of an object in the order qemu's QDict iterates them: bucket by bucket, and within a
 * bucket the latest inserted first. Makes envelope errors of requests with several bad members
 * byte-exact with qemu-ga.
 */
export function qdictOrder(obj: JsonObject): string[] {
  return Object.keys(obj)
    .map((key, index) => ({ key, index, bucket: qdictBucket(key) }))
    .sort((a, b) => a.bucket - b.bucket || b.index - a.index)
    .map((e) => e.key);
}

/** The id of a request object, if it has one, for echoing on envelope errors too (not one too long to echo). */
export function requestId(value: JsonValue): JsonValue | undefined {
  if (!isObject(value) || !Object.hasOwn(value, 'id')) return undefined;
  const id = value.id as JsonValue;
  return typeof id === 'number' || !echoTooLong(id) ? id : undefined;
}

/**
 * `{"return": v}` plus the id, key order as qemu-ga prints it; as parts, so bulk data (file reads)
 * stays bytes until partsToBuffer builds the reply.
 */
export function encodeReturn(value: JsonValue, id?: JsonValue): JsonParts {
  const parts: JsonParts = [];
  const tail = writeParts(value, '{"return": ', parts);
  parts.push(id === undefined ? `${tail}}\n` : `${tail}, "id": ${writeJson(id)}}\n`);
  return parts;
}

/**
 * Error texts longer than this are cut (then "..."): they quote names the host sent (an unknown command, an
 * unexpected member), and a 64 MiB name of DEL bytes would otherwise come back as a 384 MiB reply.
 */
export const MAX_DESC_CHARS = 64 << 10;

/** `{"error": {"class", "desc"}}` plus the id (qemu-ga prints the id first here). */
export function encodeError(err: QgaError, id?: JsonValue): string {
  const desc = err.desc.length > MAX_DESC_CHARS ? `${err.desc.slice(0, MAX_DESC_CHARS)}...` : err.desc;
  const body = `{"class": ${writeJson(err.errorClass)}, "desc": ${writeJson(desc)}}`;
  return id === undefined ? `{"error": ${body}}\n` : `{"id": ${writeJson(id)}, "error": ${body}}\n`;
}

/** The byte qemu-ga puts before a guest-sync-delimited reply, and that resets its parser. */
export const DELIMITER = 0xff;
