// The QMP envelope of a request and of a reply: what qemu's qmp_dispatch checks before any command runs.
import { errors, type QgaError } from './errors.js';
import { isObject, type JsonObject, type JsonValue, writeJson } from './json-value.js';

export interface Request {
  execute: string;
  arguments: JsonObject;
  /** Present when the client sent one; echoed in the reply. */
  id?: JsonValue;
}

/** Checks a parsed value the way qmp_dispatch does; throws the QgaError to send back (with the id when known). */
export function parseRequest(value: JsonValue): Request {
  if (!isObject(value)) throw errors.notAnObject();
  let execute: string | undefined;
  let args: JsonObject | undefined;
  for (const key of Object.keys(value)) {
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
  const req: Request = { execute, arguments: args ?? Object.create(null) };
  if (Object.hasOwn(value, 'id')) req.id = value.id as JsonValue;
  return req;
}

/** The id of a request object, if it has one, for echoing on envelope errors too. */
export function requestId(value: JsonValue): JsonValue | undefined {
  return isObject(value) && Object.hasOwn(value, 'id') ? value.id : undefined;
}

/** `{"return": v}` plus the id, key order as qemu-ga prints it. */
export function encodeReturn(value: JsonValue, id?: JsonValue): string {
  return id === undefined ? `{"return": ${writeJson(value)}}\n` : `{"return": ${writeJson(value)}, "id": ${writeJson(id)}}\n`;
}

/** `{"error": {"class", "desc"}}` plus the id (qemu-ga prints the id first here). */
export function encodeError(err: QgaError, id?: JsonValue): string {
  const body = `{"class": ${writeJson(err.errorClass)}, "desc": ${writeJson(err.desc)}}`;
  return id === undefined ? `{"error": ${body}}\n` : `{"id": ${writeJson(id)}, "error": ${body}}\n`;
}

/** The byte qemu-ga puts before a guest-sync-delimited reply, and that resets its parser. */
export const DELIMITER = 0xff;
