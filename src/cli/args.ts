// Turns `--arg key=value` pairs into QGA arguments typed by the command table, so the generic
// `call` verb needs no per-command code.
import type { CommandSpec } from '../protocol/qga/commands.js';
import { JsonStreamReader } from '../protocol/qga/json-stream.js';
import type { JsonObject, JsonValue } from '../protocol/qga/json-value.js';
import { memberName, type TypeRef } from '../protocol/qga/schema.js';

/** Bad command-line input for `call`; the message says what to type instead. */
export class UsageError extends Error {
  readonly code = 'USAGE';
}

/** Parses JSON text with the protocol's lossless reader. */
export function parseJsonText(text: string): JsonValue {
  let out: JsonValue | undefined;
  let error: string | undefined;
  const r = new JsonStreamReader((ev) => {
    if ('error' in ev) error = ev.error;
    else out ??= ev.value;
  });
  r.feed(Buffer.from(`${text} `));
  if (error !== undefined) throw new UsageError(`invalid JSON "${text}": ${error}`);
  if (out === undefined) throw new UsageError(`invalid JSON "${text}"`);
  return out;
}

function convert(type: TypeRef, raw: string, key: string): JsonValue {
  if (typeof type !== 'string')
    return raw.trim().startsWith('[') ? parseJsonText(raw) : raw.split(',').map((s) => convert(type[0], s, key));
  switch (type) {
    case 'str':
      return raw;
    case 'int': {
      if (!/^-?\d+$/.test(raw)) throw new UsageError(`--arg ${key}=${raw}: an integer is expected`);
      const n = Number(raw);
      return Number.isSafeInteger(n) ? n : BigInt(raw);
    }
    case 'bool':
      if (raw === 'true' || raw === 'false') return raw === 'true';
      throw new UsageError(`--arg ${key}=${raw}: true or false is expected`);
    default:
      // Named types: enums are strings; structs, alternates of int come as JSON or plain text.
      return /^[[{0-9-]|^(true|false|null)$/.test(raw) ? parseJsonText(raw) : raw;
  }
}

/** Builds the arguments object from `key=value` strings (and an optional JSON object to start from). */
export function buildArguments(name: string, spec: CommandSpec, pairs: string[], json?: string): JsonObject {
  const args: JsonObject = json ? { ...(parseJsonText(json) as JsonObject) } : {};
  const members = new Map(Object.entries(spec.args ?? {}).map(([k, t]) => [memberName(k).name, t]));
  for (const pair of pairs) {
    const eq = pair.indexOf('=');
    if (eq <= 0) throw new UsageError(`--arg ${pair}: expected key=value`);
    const key = pair.slice(0, eq);
    const type = members.get(key);
    if (!type) {
      const known = [...members.keys()];
      throw new UsageError(`${name} takes no argument "${key}"${known.length ? ` (it takes: ${known.join(', ')})` : ' (it takes none)'}`);
    }
    args[key] = convert(type, pair.slice(eq + 1), key);
  }
  return args;
}
