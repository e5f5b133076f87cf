// The streaming JSON reader QGA needs: byte-exact with qemu's json-lexer/json-streamer/json-parser,
// so that split frames, pipelined frames, 0xFF resyncs and garbage get the same replies as qemu-ga.
// Written by hand because no JSON library reproduces QMP's recovery rules and error wording, and
// JSON.parse loses integers above 2^53 (the `context.source` reviver is not in Node 20).
import { JsonFloat, type JsonObject, type JsonValue } from './json-value.js';

/** Limits per message, qemu's defaults (json-streamer.c); smaller ones may be configured. */
export interface JsonLimits {
  maxBytes: number;
  maxTokens: number;
  maxNesting: number;
}
export const QEMU_JSON_LIMITS: JsonLimits = { maxBytes: 64 << 20, maxTokens: 2 << 20, maxNesting: 1024 };

/** What the reader hands on: one parsed value, or one error text (a reply is owed for both). */
export type JsonEvent = { value: JsonValue } | { error: string };

enum S {
  Recovery,
  DqString,
  DqEscape,
  SqString,
  SqEscape,
  Zero,
  ExpDigits,
  ExpSign,
  ExpE,
  Mantissa,
  MantissaDigits,
  Digits,
  Sign,
  Keyword,
  Start,
}

enum T {
  LCurly,
  RCurly,
  LSquare,
  RSquare,
  Colon,
  Comma,
  Integer,
  Float,
  Keyword,
  String,
}

interface Token {
  type: T;
  text: Buffer;
}

/**
 * Feed it bytes as they arrive; it calls `emit` once per complete top-level value or error.
 * One instance per connection; `reset()` when the peer reconnects.
 */
export class JsonStreamReader {
  private state = S.Start;
  private token: number[] = [];
  private tokenChunks: Buffer[] = [];
  private tokens: Token[] = [];
  private tokenBytes = 0;
  private braces = 0;
  private brackets = 0;

  constructor(
    private readonly emit: (ev: JsonEvent) => void,
    private readonly limits: JsonLimits = QEMU_JSON_LIMITS,
  ) {}

  reset(): void {
    this.state = S.Start;
    this.clearToken();
    this.tokens = [];
    this.tokenBytes = 0;
    this.braces = 0;
    this.brackets = 0;
  }

  feed(buf: Uint8Array): void {
    const n = buf.length;
    for (let i = 0; i < n; i++) {
      // Fast path through the body of a string: the common bulk of large requests (base64 data).
      if (this.state === S.DqString || this.state === S.SqString) {
        const quote = this.state === S.DqString ? 0x22 : 0x27;
        // qemu cuts a token the moment it is one byte over the limit: never take more than that.
        const stop = Math.min(n, i + this.limits.maxBytes + 1 - this.tokenLength());
        let j = i;
        while (j < stop) {
          const c = buf[j] as number;
          if (c === quote || c === 0x5c || c < 0x20 || c > 0xfd) break;
          j++;
        }
        if (j > i) {
          this.appendRun(buf, i, j);
          if (this.checkTokenSize()) {
            i = j - 1;
            continue;
          }
          i = j;
          if (i >= n) break;
        }
      }
      this.feedByte(buf[i] as number);
    }
  }

  private appendRun(buf: Uint8Array, from: number, to: number): void {
    if (this.token.length > 0) {
      this.pendingLen += this.token.length;
      this.tokenChunks.push(Buffer.from(this.token));
      this.token = [];
    }
    this.tokenChunks.push(Buffer.from(buf.subarray(from, to)));
    this.pendingLen += to - from;
  }

  private pendingLen = 0;

  private tokenLength(): number {
    return this.pendingLen + this.token.length;
  }

  private takeToken(): Buffer {
    let out: Buffer;
    if (this.tokenChunks.length === 0) out = Buffer.from(this.token);
    else {
      if (this.token.length > 0) this.tokenChunks.push(Buffer.from(this.token));
      out = this.tokenChunks.length === 1 ? (this.tokenChunks[0] as Buffer) : Buffer.concat(this.tokenChunks);
    }
    this.clearToken();
    return out;
  }

  private clearToken(): void {
    this.token = [];
    this.tokenChunks = [];
    this.pendingLen = 0;
  }

  /** qemu cuts a token that grows past the size limit and hands it on as it stands. */
  private checkTokenSize(): boolean {
    if (this.tokenLength() <= this.limits.maxBytes) return false;
    this.clearToken();
    this.state = S.Start;
    this.fail('JSON token size limit exceeded');
    return true;
  }

  private feedByte(c: number): void {
    for (;;) {
      const st = this.state;
      switch (st) {
        case S.Recovery:
          // Skip until a structural character, a control character other than TAB, or 0xFE/0xFF.
          if ((c < 0x20 && c !== 0x09) || c >= 0xfe || c === 0x5b || c === 0x5d || c === 0x7b || c === 0x7d || c === 0x3a || c === 0x2c) {
            this.state = S.Start;
            continue; // look at the same byte again from Start
          }
          return;
        case S.Start:
          return this.start(c);
        case S.DqString:
        case S.SqString: {
          const quote = st === S.DqString ? 0x22 : 0x27;
          if (c >= 0x20 && c <= 0xfd) {
            this.token.push(c);
            if (c === 0x5c) this.state = st === S.DqString ? S.DqEscape : S.SqEscape;
            else if (c === quote) this.finish(T.String);
            else this.checkTokenSize();
            return;
          }
          return this.lexError(c);
        }
        case S.DqEscape:
        case S.SqEscape:
          if (c >= 0x20 && c <= 0xfd) {
            this.token.push(c);
            this.state = st === S.DqEscape ? S.DqString : S.SqString;
            return;
          }
          return this.lexError(c);
        case S.Zero:
          if (c >= 0x30 && c <= 0x39) return this.lexError(c);
          if (c === 0x2e) return this.consume(c, S.Mantissa);
          this.finish(T.Integer);
          continue;
        case S.Sign:
          if (c === 0x30) return this.consume(c, S.Zero);
          if (c >= 0x31 && c <= 0x39) return this.consume(c, S.Digits);
          return this.lexError(c);
        case S.Digits:
          if (c >= 0x30 && c <= 0x39) return this.consume(c, S.Digits);
          if (c === 0x65 || c === 0x45) return this.consume(c, S.ExpE);
          if (c === 0x2e) return this.consume(c, S.Mantissa);
          this.finish(T.Integer);
          continue;
        case S.Mantissa:
          if (c >= 0x30 && c <= 0x39) return this.consume(c, S.MantissaDigits);
          return this.lexError(c);
        case S.MantissaDigits:
          if (c >= 0x30 && c <= 0x39) return this.consume(c, S.MantissaDigits);
          if (c === 0x65 || c === 0x45) return this.consume(c, S.ExpE);
          this.finish(T.Float);
          continue;
        case S.ExpE:
          if (c === 0x2d || c === 0x2b) return this.consume(c, S.ExpSign);
          if (c >= 0x30 && c <= 0x39) return this.consume(c, S.ExpDigits);
          return this.lexError(c);
        case S.ExpSign:
          if (c >= 0x30 && c <= 0x39) return this.consume(c, S.ExpDigits);
          return this.lexError(c);
        case S.ExpDigits:
          if (c >= 0x30 && c <= 0x39) return this.consume(c, S.ExpDigits);
          this.finish(T.Float);
          continue;
        case S.Keyword:
          if (c >= 0x61 && c <= 0x7a) return this.consume(c, S.Keyword);
          this.finish(T.Keyword);
          continue;
      }
    }
  }

  private consume(c: number, next: S): void {
    this.token.push(c);
    this.state = next;
    if (this.token.length > 4096) this.checkTokenSize();
  }

  private start(c: number): void {
    switch (c) {
      case 0x20:
      case 0x09:
      case 0x0d:
      case 0x0a:
        return;
      case 0x22:
        return this.consume(c, S.DqString);
      case 0x27:
        return this.consume(c, S.SqString);
      case 0x30:
        return this.consume(c, S.Zero);
      case 0x2d:
        return this.consume(c, S.Sign);
      case 0x7b:
        this.token.push(c);
        return this.finish(T.LCurly);
      case 0x7d:
        this.token.push(c);
        return this.finish(T.RCurly);
      case 0x5b:
        this.token.push(c);
        return this.finish(T.LSquare);
      case 0x5d:
        this.token.push(c);
        return this.finish(T.RSquare);
      case 0x2c:
        this.token.push(c);
        return this.finish(T.Comma);
      case 0x3a:
        this.token.push(c);
        return this.finish(T.Colon);
    }
    if (c >= 0x31 && c <= 0x39) return this.consume(c, S.Digits);
    if (c >= 0x61 && c <= 0x7a) return this.consume(c, S.Keyword);
    this.lexError(c);
  }

  /** A byte no token can take: qemu reports the token so far plus that byte, then skips ahead. */
  private lexError(c: number): void {
    this.token.push(c);
    const text = this.takeToken();
    this.state = S.Recovery;
    this.fail(`JSON parse error, stray '${decodeLossy(text)}'`);
  }

  private fail(message: string): void {
    this.tokens = [];
    this.tokenBytes = 0;
    this.braces = 0;
    this.brackets = 0;
    this.emit({ error: message });
  }

  private finish(type: T): void {
    const text = this.takeToken();
    this.state = S.Start;
    switch (type) {
      case T.LCurly:
        this.braces++;
        break;
      case T.RCurly:
        this.braces--;
        break;
      case T.LSquare:
        this.brackets++;
        break;
      case T.RSquare:
        this.brackets--;
        break;
    }
    if (this.tokenBytes + text.length + 1 > this.limits.maxBytes) return this.fail('JSON token size limit exceeded');
    if (this.tokens.length + 1 > this.limits.maxTokens) return this.fail('JSON token count limit exceeded');
    if (this.braces + this.brackets > this.limits.maxNesting) return this.fail('JSON nesting depth limit exceeded');
    this.tokens.push({ type, text });
    this.tokenBytes += text.length;
    if ((this.braces > 0 || this.brackets > 0) && this.braces >= 0 && this.brackets >= 0) return;
    const tokens = this.tokens;
    this.tokens = [];
    this.tokenBytes = 0;
    this.braces = 0;
    this.brackets = 0;
    const parser = new TokenParser(tokens);
    const value = parser.parse();
    if (parser.error !== undefined) this.emit({ error: `JSON parse error, ${parser.error}` });
    else this.emit({ value: value as JsonValue });
  }
}

const MIN_CODEPOINT = [0x80, 0x800, 0x10000, 0x200000, 0x4000000];

/**
 * Bytes to text for error messages, as qemu prints a C string through its JSON writer: the text
 * ends at a NUL byte, and each invalid sequence (by mod_utf8_codepoint()'s rules, which group
 * bytes differently from the WHATWG decoder) becomes one U+FFFD.
 */
export function decodeLossy(b: Uint8Array): string {
  let out = '';
  let i = 0;
  while (i < b.length) {
    const c = b[i] as number;
    if (c === 0) break;
    if (c < 0x80) {
      out += String.fromCharCode(c);
      i++;
      continue;
    }
    if (c >= 0xfe || (c & 0x40) === 0) {
      out += '\uFFFD'; // impossible byte or stray continuation byte
      i++;
      continue;
    }
    let len = 0;
    for (let mask = 0x80; c & mask; mask >>= 1) len++;
    let cp = c & ((0x80 >> len) - 1);
    let j = 1;
    for (; j < len; j++) {
      const d = b[i + j] ?? 0;
      if ((d & 0xc0) !== 0x80) break;
      cp = cp * 64 + (d & 0x3f);
    }
    i += j;
    const valid =
      j === len &&
      cp <= 0x10ffff &&
      !isNoncharacter(cp) &&
      !(cp >= 0xd800 && cp <= 0xdfff) &&
      (cp >= (MIN_CODEPOINT[len - 2] as number) || (cp === 0 && len === 2));
    out += valid ? String.fromCodePoint(cp) : '\uFFFD';
  }
  return out;
}

const strictUtf8 = new TextDecoder('utf-8', { fatal: true });

/** Unicode's 66 noncharacters (U+FDD0..U+FDEF and U+xxFFFE/U+xxFFFF), which qemu refuses in strings. */
function isNoncharacter(cp: number): boolean {
  return (cp >= 0xfdd0 && cp <= 0xfdef) || (cp & 0xfffe) === 0xfffe;
}

/**
 * Decodes string bytes as qemu's mod_utf8_codepoint() does: strict UTF-8, except that the
 * overlong "\xC0\x80" means U+0000 and that noncharacters are invalid. Undefined when invalid.
 */
function decodeModifiedUtf8(b: Uint8Array): string | undefined {
  let ascii = true;
  for (const c of b) {
    if (c >= 0x80) {
      ascii = false;
      break;
    }
  }
  if (ascii) return Buffer.from(b.buffer, b.byteOffset, b.length).toString('latin1');
  // C0 80 is the only overlong form allowed: decode it apart, everything else strictly.
  let out = '';
  let from = 0;
  for (let i = 0; i + 1 < b.length; i++) {
    if (b[i] === 0xc0 && b[i + 1] === 0x80) {
      const part = strictDecode(b.subarray(from, i));
      if (part === undefined) return undefined;
      out += `${part}\u0000`;
      from = i + 2;
      i++;
    }
  }
  const rest = strictDecode(b.subarray(from));
  return rest === undefined ? undefined : out + rest;
}

function strictDecode(b: Uint8Array): string | undefined {
  let s: string;
  try {
    s = strictUtf8.decode(b);
  } catch {
    return undefined;
  }
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if ((c >= 0xfdd0 && c <= 0xfdef) || c === 0xfffe || c === 0xffff) return undefined;
    // Supplementary noncharacters U+1FFFE.. U+10FFFF: the trailing surrogate is DFFE or DFFF.
    if ((c === 0xdffe || c === 0xdfff) && i > 0) {
      const cp = s.codePointAt(i - 1) as number;
      if (isNoncharacter(cp)) return undefined;
    }
  }
  return s;
}

/** Recursive descent over one message's tokens, with json-parser.c's error texts. */
class TokenParser {
  error: string | undefined;
  private pos = 0;

  constructor(private readonly tokens: Token[]) {}

  parse(): JsonValue | undefined {
    return this.value();
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
    const obj: JsonObject = Object.create(null);
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
