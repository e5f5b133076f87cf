// Keeps secrets and bulk data out of the audit log while recording what was asked.
import type { JsonObject } from '../protocol/qga/json-value.js';

const SECRET = new Set(['password']);
const BULK = new Set(['buf-b64', 'input-data']);

/** A copy of the arguments safe to log: passwords hidden, large payloads replaced by their size. */
export function redactArgs(_command: string, args: JsonObject): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(args)) {
    if (SECRET.has(k)) out[k] = '[redacted]';
    else if (BULK.has(k) && typeof v === 'string') out[k] = `[${v.length} base64 chars]`;
    else out[k] = typeof v === 'bigint' ? v.toString() : v;
  }
  return out;
}
