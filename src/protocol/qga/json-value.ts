// The JSON values QGA carries, with lossless 64-bit integers, and the writer that prints them as qemu does.

/** A JSON value; integers outside the safe range stay exact as bigint (sync ids, nanosecond times). */
export type JsonValue = null | boolean | number | bigint | string | JsonFloat | JsonValue[] | JsonObject;
export type JsonObject = { [key: string]: JsonValue | undefined };

/** Marks a JSON float so that `1.0` stays a float through a round trip (QAPI 'number'). */
export class JsonFloat {
  constructor(readonly value: number) {}
}

const NEEDS_ESCAPE = /["\\\u0000-\u001f\u007f-\uffff]/;

/** Quotes a string the way qemu's json-writer does: non-ASCII and DEL as upper-case \uXXXX. */
export function quoteString(s: string): string {
  if (!NEEDS_ESCAPE.test(s)) return `"${s}"`;
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

/** Serialises a value in qemu's compact style: `{"a": 1, "b": [1, 2]}` (space after ':' and ','). */
export function writeJson(v: JsonValue | undefined): string {
  if (v === null || v === undefined) return 'null';
  switch (typeof v) {
    case 'string':
      return quoteString(v);
    case 'number':
      return Number.isInteger(v) ? String(v) : formatFloat(v);
    case 'bigint':
      return v.toString();
    case 'boolean':
      return v ? 'true' : 'false';
  }
  if (v instanceof JsonFloat) return formatFloat(v.value);
  if (Array.isArray(v)) {
    if (v.length === 0) return '[]';
    let out = '[';
    for (let i = 0; i < v.length; i++) {
      if (i > 0) out += ', ';
      out += writeJson(v[i]);
    }
    return `${out}]`;
  }
  let out = '{';
  let first = true;
  for (const key of Object.keys(v)) {
    const item = (v as JsonObject)[key];
    if (item === undefined) continue; // optional members left out, as QAPI does
    out += first ? '' : ', ';
    first = false;
    out += `${quoteString(key)}: ${writeJson(item)}`;
  }
  return `${out}}`;
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
  return typeof v === 'object' && v !== null && !Array.isArray(v) && !(v instanceof JsonFloat);
}
