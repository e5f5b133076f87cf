// Keeps secrets and bulk data out of the audit log while recording what was asked. Which arguments
// need it, and how, is the command table's `redact` flag (protocol/qga/commands.ts); this file only
// knows how to hide each kind.
import { type ArgRedaction, findCommand } from '../protocol/qga/commands.js';
import { isJsonString, type JsonObject, type JsonValue } from '../protocol/qga/json-value.js';

/** What a hidden value is written as. */
export const REDACTED = '[redacted]';

/**
 * A name that says its value is a secret: passwords, tokens, keys, credentials. Matched against an
 * option's name (`--password`, `--db-token=...`), a variable's (`API_KEY=...`) or a header's
 * (`Authorization: ...`). A rule, not a guarantee: a secret recognisable only by its position
 * (`mysql -pSECRET`, a positional token) is not caught; docs/security.md says to send secrets as
 * input-data, which is never logged.
 */
const SECRET_NAME = /pass(word|wd|phrase)?|secret|token|credential|auth|api[-_]?key|private[-_]?key|^key$|cookie|bearer|session/i;

/** `--name=value`, `NAME=value`: the name before '=' with leading dashes dropped. */
const ASSIGNMENT = /^(-{0,2})([A-Za-z0-9_.-]+)=/;
/** `Authorization: Bearer x` (curl -H). */
const HEADER = /^([A-Za-z0-9_-]+):\s*/;
/** An option that takes its value as the next argument: `--password`, `-token`. */
const OPTION = /^-{1,2}([A-Za-z0-9_.-]+)$/;
/** user:password@ in a URL. */
const URL_PASSWORD = /^([a-z][a-z0-9+.-]*:\/\/[^/:@\s]*):[^/@\s]*@/i;

/**
 * Program arguments with secret-looking values hidden: the value of `--secret-name=value`,
 * `SECRET_NAME=value` and `Secret-Header: value`; the argument after an option with a secret name
 * (`--password VALUE`); the password of a URL (`https://user:pw@host`). Everything else is kept.
 */
export function redactArgv(argv: readonly unknown[]): unknown[] {
  const out: unknown[] = [];
  let hideNext = false;
  for (const a of argv) {
    if (typeof a !== 'string') {
      out.push(a);
      hideNext = false;
      continue;
    }
    if (hideNext) {
      out.push(REDACTED);
      hideNext = false;
      continue;
    }
    const assign = ASSIGNMENT.exec(a);
    const header = HEADER.exec(a);
    if (assign && SECRET_NAME.test(assign[2] as string)) out.push(`${assign[0]}${REDACTED}`);
    else if (header && SECRET_NAME.test(header[1] as string)) out.push(`${header[0]}${REDACTED}`);
    else if (URL_PASSWORD.test(a)) out.push(a.replace(URL_PASSWORD, `$1:${REDACTED}@`));
    else {
      const option = OPTION.exec(a);
      hideNext = option !== null && SECRET_NAME.test(option[1] as string);
      out.push(a);
    }
  }
  return out;
}

/** KEY=VALUE entries with the names kept and every value hidden (an entry without '=' may be a value: hidden whole). */
export function redactEnv(entries: readonly unknown[]): unknown[] {
  return entries.map((e) => {
    if (typeof e !== 'string') return e;
    const eq = e.indexOf('=');
    return eq > 0 ? `${e.slice(0, eq)}=${REDACTED}` : REDACTED;
  });
}

function hide(kind: ArgRedaction, v: JsonValue): unknown {
  switch (kind) {
    case 'secret':
      return REDACTED;
    case 'bulk':
      return isJsonString(v) ? `[${v.length} base64 chars]` : REDACTED;
    case 'env':
      return Array.isArray(v) ? redactEnv(v) : REDACTED;
    case 'argv':
      return Array.isArray(v) ? redactArgv(v) : REDACTED;
  }
}

/** A copy of the arguments safe to log, as the command table's `redact` flags say. */
export function redactArgs(command: string, args: JsonObject): Record<string, unknown> {
  const rules = findCommand(command)?.redact;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(args)) {
    const kind = rules?.[k];
    if (kind && v !== undefined) out[k] = hide(kind, v);
    else out[k] = typeof v === 'bigint' ? v.toString() : v;
  }
  return out;
}
