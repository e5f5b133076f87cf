// json-parser.c's recursive descent over one message's tokens, with its error texts.

import { latin1Slice } from './json-fast-path.js';
import { decodeStringPart, StringError } from './json-string.js';
import { STRING_VALUE, T, type TokenBuffer } from './json-token.js';
import { JsonFloat, type JsonObject, type JsonValue, newJsonObject } from './json-value.js';

/** No token left: what peek() returns past the end. */
const EOI = -1;

/** Recursive descent over one message's tokens (a TokenBuffer), with json-parser.c's error texts. */
export class TokenParser {
  /** The first error of the last parse(), in json-parser.c's words. */
  error: string | undefined;
  private pos = 0;
  private tokens: TokenBuffer | undefined;
  private count = 0;
  /** Long strings taken so far (TokenBuffer keeps them as values, in order, apart from the other tokens). */
  private strings = 0;

  /** Parses one message's tokens; one parser serves a connection's messages one after the other. */
  parse(tokens: TokenBuffer): JsonValue | undefined {
    this.tokens = tokens;
    this.count = tokens.count;
    this.pos = 0;
    this.strings = 0;
    this.error = undefined;
    try {
      return this.value();
    } finally {
      this.tokens = undefined;
    }
  }

  private fail(msg: string): undefined {
    if (this.error === undefined) this.error = msg;
    return undefined;
  }

  /** The type of the next token, or EOI. */
  private peek(): T | typeof STRING_VALUE | typeof EOI {
    return this.pos < this.count ? (this.tokens as TokenBuffer).type(this.pos) : EOI;
  }

  /** The type of the next token, which is then behind us, or EOI. */
  private pop(): T | typeof STRING_VALUE | typeof EOI {
    return this.pos < this.count ? (this.tokens as TokenBuffer).type(this.pos++) : EOI;
  }

  private value(): JsonValue | undefined {
    const t = this.peek();
    if (t === EOI) return this.fail('premature EOI');
    const tb = this.tokens as TokenBuffer;
    const at = this.pos;
    switch (t) {
      case T.LCurly:
        return this.object();
      case T.LSquare:
        return this.array();
      case T.Integer:
        this.pos++;
        return parseInteger(latin1Slice(tb.text, tb.start(at), tb.end(at)));
      case T.Float:
        this.pos++;
        return new JsonFloat(Number(latin1Slice(tb.text, tb.start(at), tb.end(at))));
      case T.String: {
        this.pos++;
        const end = tb.end(at) - 1;
        const s = decodeStringPart(tb.text, tb.start(at) + 1, end, end, end + 1).value;
        return s instanceof StringError ? this.fail(s.error) : s;
      }
      case STRING_VALUE: {
        this.pos++;
        const s = tb.string(this.strings++);
        return s instanceof StringError ? this.fail(s.error) : s;
      }
      case T.Keyword: {
        this.pos++;
        const k = latin1Slice(tb.text, tb.start(at), tb.end(at));
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
    if (peek === EOI) return this.fail('premature EOI');
    if (peek === T.RCurly) {
      this.pos++;
      return obj;
    }
    if (!this.pair(obj)) return undefined;
    let t = this.pop();
    if (t === EOI) return this.fail('premature EOI');
    while (t !== T.RCurly) {
      if (t !== T.Comma) return this.fail('expected separator in dict');
      if (!this.pair(obj)) return undefined;
      t = this.pop();
      if (t === EOI) return this.fail('premature EOI');
    }
    return obj;
  }

  private pair(obj: JsonObject): boolean {
    if (this.peek() === EOI) return this.fail('premature EOI') ?? false;
    const key = this.value();
    if (this.error !== undefined) return false;
    if (typeof key !== 'string') return this.fail('key is not a string in object') ?? false;
    const colon = this.pop();
    if (colon === EOI) return this.fail('premature EOI') ?? false;
    if (colon !== T.Colon) return this.fail('missing : in object pair') ?? false;
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
    if (peek === EOI) return this.fail('premature EOI');
    if (peek === T.RSquare) {
      this.pos++;
      return list;
    }
    let v = this.value();
    if (v === undefined) return this.fail('expecting value');
    list.push(v);
    let t = this.pop();
    if (t === EOI) return this.fail('premature EOI');
    while (t !== T.RSquare) {
      if (t !== T.Comma) return this.fail('expected separator in list');
      v = this.value();
      if (v === undefined) return this.fail('expecting value');
      list.push(v);
      t = this.pop();
      if (t === EOI) return this.fail('premature EOI');
    }
    return list;
  }
}

const INT64_MIN = -(2n ** 63n);
const UINT64_MAX = 2n ** 64n - 1n;

/** Characters of the longest integer that can fit int64/uint64 ("-9223372036854775808", 20 digits of uint64). */
const INT64_MAX_CHARS = 20;

/** An integer token: exact when it fits int64/uint64, a float beyond that (as qemu does). */
function parseInteger(s: string): number | bigint | JsonFloat {
  const n = Number(s);
  if (Number.isSafeInteger(n)) return n;
  // Longer ones cannot fit (the lexer allows no leading zeros), and BigInt() of a 64 MiB digit string would take minutes.
  if (s.length > INT64_MAX_CHARS) return new JsonFloat(n);
  const b = BigInt(s);
  if (b >= INT64_MIN && b <= UINT64_MAX) return b;
  return new JsonFloat(n);
}
