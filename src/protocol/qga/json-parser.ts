// json-parser.c's recursive descent over one message's tokens, with its error texts.

import { T, type Token } from './json-token.js';
import { decodeLossy, decodeModifiedUtf8, isNoncharacter } from './json-utf8.js';
import { JsonFloat, type JsonObject, type JsonValue, newJsonObject } from './json-value.js';

/** Recursive descent over one message's tokens, with json-parser.c's error texts. */
export class TokenParser {
  /** The first error of the last parse(), in json-parser.c's words. */
  error: string | undefined;
  private pos = 0;
  private tokens: readonly Token[] = [];

  /** Parses one message's tokens; one parser serves a connection's messages one after the other. */
  parse(tokens: readonly Token[]): JsonValue | undefined {
    this.tokens = tokens;
    this.pos = 0;
    this.error = undefined;
    try {
      return this.value();
    } finally {
      this.tokens = [];
    }
  }

  private fail(msg: string): undefined {
    if (this.error === undefined) this.error = msg;
    return undefined;
  }

  private peek(): Token | undefined {
    return this.tokens[this.pos];
  }

  private pop(): Token | undefined {
    return this.tokens[this.pos++];
  }

  private value(): JsonValue | undefined {
    const t = this.peek();
    if (!t) return this.fail('premature EOI');
    switch (t.type) {
      case T.LCurly:
        return this.object();
      case T.LSquare:
        return this.array();
      case T.Integer:
        this.pos++;
        return parseInteger(t.text.toString('latin1'));
      case T.Float:
        this.pos++;
        return new JsonFloat(Number(t.text.toString('latin1')));
      case T.String:
        this.pos++;
        return this.string(t.text);
      case T.Keyword: {
        this.pos++;
        const k = t.text.toString('latin1');
        if (k === 'true') return true;
        if (k === 'false') return false;
        if (k === 'null') return null;
        return this.fail(`invalid keyword '${k}'`);
      }
      default:
        return this.fail('expecting value');
    }
  }

  private object(): JsonObject | undefined {
    this.pos++;
    const obj = newJsonObject();
    const peek = this.peek();
    if (!peek) return this.fail('premature EOI');
    if (peek.type === T.RCurly) {
      this.pos++;
      return obj;
    }
    if (!this.pair(obj)) return undefined;
    let t = this.pop();
    if (!t) return this.fail('premature EOI');
    while (t.type !== T.RCurly) {
      if (t.type !== T.Comma) return this.fail('expected separator in dict');
      if (!this.pair(obj)) return undefined;
      t = this.pop();
      if (!t) return this.fail('premature EOI');
    }
    return obj;
  }

  private pair(obj: JsonObject): boolean {
    if (!this.peek()) return this.fail('premature EOI') ?? false;
    const key = this.value();
    if (this.error !== undefined) return false;
    if (typeof key !== 'string') return this.fail('key is not a string in object') ?? false;
    const colon = this.pop();
    if (!colon) return this.fail('premature EOI') ?? false;
    if (colon.type !== T.Colon) return this.fail('missing : in object pair') ?? false;
    const v = this.value();
    if (v === undefined) return this.fail('Missing value in dict') ?? false;
    if (Object.hasOwn(obj, key)) return this.fail('duplicate key') ?? false;
    obj[key] = v;
    return true;
  }

  private array(): JsonValue[] | undefined {
    this.pos++;
    const list: JsonValue[] = [];
    const peek = this.peek();
    if (!peek) return this.fail('premature EOI');
    if (peek.type === T.RSquare) {
      this.pos++;
      return list;
    }
    let v = this.value();
    if (v === undefined) return this.fail('expecting value');
    list.push(v);
    let t = this.pop();
    if (!t) return this.fail('premature EOI');
    while (t.type !== T.RSquare) {
      if (t.type !== T.Comma) return this.fail('expected separator in list');
      v = this.value();
      if (v === undefined) return this.fail('expecting value');
      list.push(v);
      t = this.pop();
      if (!t) return this.fail('premature EOI');
    }
    return list;
  }

  private string(text: Buffer): string | undefined {
    const quote = text[0];
    const end = text.length - 1;
    // Fastest path: plain ASCII (keys, command names): no escape, nothing to validate, no subarray.
    let plain = true;
    for (let i = 1; i < end; i++) {
      const c = text[i] as number;
      if (c === 0x5c || c >= 0x80) {
        plain = false;
        break;
      }
    }
    if (plain) return text.toString('latin1', 1, end);
    // Fast path: no escapes, valid UTF-8.
    const body = text.subarray(1, end);
    if (body.indexOf(0x5c) < 0) {
      const s = decodeModifiedUtf8(body);
      return s ?? this.fail('invalid UTF-8 sequence in string');
    }
    let out = '';
    let i = 1;
    while (i < end) {
      const c = text[i] as number;
      if (c !== 0x5c) {
        let j = i;
        while (j < end && text[j] !== 0x5c) j++;
        const seg = decodeModifiedUtf8(text.subarray(i, j));
        if (seg === undefined) return this.fail('invalid UTF-8 sequence in string');
        out += seg;
        i = j;
        continue;
      }
      const e = text[i + 1];
      i += 2;
      switch (e) {
        case 0x22:
          out += '"';
          break;
        case 0x27:
          out += "'";
          break;
        case 0x5c:
          out += '\\';
          break;
        case 0x2f:
          out += '/';
          break;
        case 0x62:
          out += '\b';
          break;
        case 0x66:
          out += '\f';
          break;
        case 0x6e:
          out += '\n';
          break;
        case 0x72:
          out += '\r';
          break;
        case 0x74:
          out += '\t';
          break;
        case 0x75: {
          const start = i - 2;
          let cp = hex4(text, i);
          i += 4;
          if (cp >= 0xd800 && cp <= 0xdbff && text[i] === 0x5c && text[i + 1] === 0x75) {
            const trail = hex4(text, i + 2);
            if (trail >= 0xdc00 && trail <= 0xdfff) {
              cp = 0x10000 + ((cp & 0x3ff) << 10) + (trail & 0x3ff);
              i += 6;
            } else cp = -1;
          }
          // Modified UTF-8 (qemu): \u0000 is allowed; lone surrogates, noncharacters and bad hex are not.
          if (cp < 0 || (cp >= 0xd800 && cp <= 0xdfff) || isNoncharacter(cp)) {
            // qemu prints the escape as the 6 bytes from the backslash, stopping at the token's end (the quote included).
            return this.fail(`${decodeLossy(text.subarray(start, Math.min(i, text.length)))} is not a valid Unicode character`);
          }
          out += String.fromCodePoint(cp);
          break;
        }
        default:
          return this.fail('invalid escape sequence in string');
      }
    }
    void quote;
    return out;
  }
}

function hex4(b: Buffer, at: number): number {
  let cp = 0;
  for (let k = 0; k < 4; k++) {
    const c = b[at + k];
    if (c === undefined) return -1;
    let d: number;
    if (c >= 0x30 && c <= 0x39) d = c - 0x30;
    else if (c >= 0x61 && c <= 0x66) d = c - 0x61 + 10;
    else if (c >= 0x41 && c <= 0x46) d = c - 0x41 + 10;
    else return -1;
    cp = (cp << 4) | d;
  }
  return cp;
}

const INT64_MIN = -(2n ** 63n);
const UINT64_MAX = 2n ** 64n - 1n;

/** An integer token: exact when it fits int64/uint64, a float beyond that (as qemu does). */
function parseInteger(s: string): number | bigint | JsonFloat {
  const n = Number(s);
  if (Number.isSafeInteger(n)) return n;
  const b = BigInt(s);
  if (b >= INT64_MIN && b <= UINT64_MAX) return b;
  return new JsonFloat(n);
}
