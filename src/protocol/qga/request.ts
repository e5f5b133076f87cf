// The QMP envelope of a request and of a reply: what qemu's qmp_dispatch checks before any command runs.
import { errors, type QgaError } from './errors.js';
import { isObject, type JsonObject, type JsonParts, type JsonValue, newJsonObject, writeJson, writeParts } from './json-value.js';

export interface Request {
  execute: string;
  arguments: JsonObject;
  /** Present when the client sent one; echoed in the reply. */
  id?: JsonValue;
}

/** Checks a parsed value the way qmp_dispatch does; throws the QgaError to send back (with the id when known). */
export function parseRequest(value: JsonValue): Request {
  if (!isObject(value)) throw errors.notAnObject();
  // Nearly every request is well formed, and then the order qemu checks the members in cannot matter:
  // take it without sorting the keys (qdictOrder hashes each of them).
  const fast = wellFormed(value);
  if (fast) return fast;
  let execute: string | undefined;
  let args: JsonObject | undefined;
  // qemu checks the members in its QDict's iteration order, which decides which error wins.
  for (const key of qdictOrder(value)) {
    const v = value[key] as JsonValue;
    if (key === 'execute') {
      if (typeof v !== 'string') throw errors.memberNotString('execute');
      execute = v;
    } else if (key === 'arguments') {
      if (!isObject(v)) throw errors.argumentsNotObject();
      args = v;
    } else if (key !== 'id') {
      // exec-oob included: QGA has no out-of-band execution.
      throw errors.memberUnexpected(key);
    }
  }
  if (execute === undefined) throw errors.lacksExecute();
  const req: Request = { execute, arguments: args ?? NO_ARGUMENTS };
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

/** The arguments of a request that sent none: one shared frozen object (handlers only read their arguments). */
const NO_ARGUMENTS: JsonObject = Object.freeze(newJsonObject());

const utf8 = new TextEncoder();

/** The bucket qemu's QDict puts a key in: tdb_hash() of its bytes (up to a NUL) modulo 512 buckets. */
function qdictBucket(key: string): number {
  const bytes = utf8.encode(key);
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

/** The id of a request object, if it has one, for echoing on envelope errors too. */
export function requestId(value: JsonValue): JsonValue | undefined {
  return isObject(value) && Object.hasOwn(value, 'id') ? value.id : undefined;
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

/** `{"error": {"class", "desc"}}` plus the id (qemu-ga prints the id first here). */
export function encodeError(err: QgaError, id?: JsonValue): string {
  const body = `{"class": ${writeJson(err.errorClass)}, "desc": ${writeJson(err.desc)}}`;
  return id === undefined ? `{"error": ${body}}\n` : `{"id": ${writeJson(id)}, "error": ${body}}\n`;
}

/** The byte qemu-ga puts before a guest-sync-delimited reply, and that resets its parser. */
export const DELIMITER = 0xff;
