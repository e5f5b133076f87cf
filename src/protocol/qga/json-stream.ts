// The streaming JSON reader QGA needs: byte-exact with qemu's json-lexer/json-streamer/json-parser,
// so that split frames, pipelined frames, 0xFF resyncs and garbage get the same replies as qemu-ga.
// Written by hand because no JSON library reproduces QMP's recovery rules and error wording, and
// JSON.parse loses integers above 2^53 (the `context.source` reviver is not in Node 20).
import { TokenParser } from './json-parser.js';
import { T, type Token } from './json-token.js';
import { decodeLossy } from './json-utf8.js';
import { type JsonObject, type JsonValue, newJsonObject } from './json-value.js';

/** Limits per message, qemu's defaults (json-streamer.c); smaller ones may be configured. */
export interface JsonLimits {
  maxBytes: number;
  maxTokens: number;
  maxNesting: number;
}
export const QEMU_JSON_LIMITS: JsonLimits = { maxBytes: 64 << 20, maxTokens: 2 << 20, maxNesting: 1024 };

/** What the reader hands on: one parsed value, or one error text (a reply is owed for both). */
export type JsonEvent = { value: JsonValue } | { error: string };

/**
 * The fast path (simpleMessage) takes messages of at most this many bytes, objects nested at most FAST_DEPTH
 * deep, and runs only when the limits cannot cut such a message (see fastPathFits).
 */
const FAST_MAX_BYTES = 4096;
const FAST_DEPTH = 4;
/** Integers of at most 15 digits are exact doubles: the parser makes them plain numbers too. */
const FAST_MAX_DIGITS = 15;

const fastPathFits = (l: JsonLimits) => l.maxBytes > 2 * FAST_MAX_BYTES && l.maxTokens > FAST_MAX_BYTES && l.maxNesting >= FAST_DEPTH;

const isJsonSpace = (c: number) => c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09;

/** The index of the first byte from `i` on that is not whitespace the lexer skips, or `limit`. */
function skipSpace(buf: Uint8Array, i: number, limit: number): number {
  while (i < limit && isJsonSpace(buf[i] as number)) i++;
  return i;
}

/**
 * buf[from, to) as latin1 (the bytes are ASCII here). Buffer's own latin1Slice (what toString('latin1') ends
 * in, without its argument handling; it takes any Uint8Array), or the documented way if a Node lacks it.
 */
const latin1Slice: (buf: Uint8Array, from: number, to: number) => string =
  typeof (Buffer.prototype as { latin1Slice?: unknown }).latin1Slice === 'function'
    ? (buf, from, to) =>
        (Buffer.prototype as unknown as { latin1Slice(this: Uint8Array, a: number, b: number): string }).latin1Slice.call(buf, from, to)
    : (buf, from, to) => Buffer.from(buf.buffer, buf.byteOffset, buf.byteLength).toString('latin1', from, to);

/** Index of the closing quote of a string of printable ASCII without escapes starting at `from`, or -1. */
function plainStringEnd(buf: Uint8Array, from: number, limit: number): number {
  for (let i = from; i < limit; i++) {
    const c = buf[i] as number;
    if (c === 0x22) return i;
    if (c === 0x5c || c < 0x20 || c >= 0x80) return -1;
  }
  return -1;
}

/**
 * Short strings seen before (member names, command names: hosts send the same few over and over), found
 * again by their bytes without making a new string: a string from bytes is a call into C++ each time.
 * Process-wide (strings are immutable); 256 slots, a miss just replaces the slot.
 */
const INTERN_MAX = 48;
const internSlots: (string | undefined)[] = new Array(256).fill(undefined);

function plainString(buf: Uint8Array, from: number, to: number): string {
  const len = to - from;
  if (len > INTERN_MAX) return latin1Slice(buf, from, to);
  let h = len;
  for (let i = from; i < to; i++) h = (Math.imul(h, 31) + (buf[i] as number)) | 0;
  const slot = (h ^ (h >>> 8)) & 255;
  const known = internSlots[slot];
  if (known !== undefined && known.length === len) {
    let k = 0;
    while (k < len && known.charCodeAt(k) === buf[from + k]) k++;
    if (k === len) return known;
  }
  const str = latin1Slice(buf, from, to);
  internSlots[slot] = str;
  return str;
}

const SCRATCH_SIZE = 256;
const SCRATCH_KEEP = 64 << 10;
/** The text of each one-byte token, shared by every reader (the parser only reads token text). */
const STRUCTURAL: Partial<Record<T, Buffer>> = {
  [T.LCurly]: Buffer.from('{'),
  [T.RCurly]: Buffer.from('}'),
  [T.LSquare]: Buffer.from('['),
  [T.RSquare]: Buffer.from(']'),
  [T.Comma]: Buffer.from(','),
  [T.Colon]: Buffer.from(':'),
};

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

/**
 * Feed it bytes as they arrive; it calls `emit` once per complete top-level value or error.
 * One instance per connection; `reset()` when the peer reconnects.
 */
export class JsonStreamReader {
  private state = S.Start;
  /** The current token's bytes so far (those not yet moved to tokenChunks): a scratch buffer reused for every token. */
  private token = Buffer.allocUnsafe(SCRATCH_SIZE);
  private tokenLen = 0;
  private tokenChunks: Buffer[] = [];
  /** The current message's tokens; the array is reused from one message to the next. */
  private readonly tokens: Token[] = [];
  private readonly parser = new TokenParser();
  private tokenBytes = 0;
  private braces = 0;
  private brackets = 0;
  /** Whether simpleMessage may run (the limits allow it and the caller did not turn it off). */
  private readonly fast: boolean;
  /** simpleMessage's position while it descends. */
  private fastPos = 0;
  /** Events emitted so far (feed uses it to retry the fast path only after progress). */
  private emitted = 0;

  /** `fastPath: false` keeps every byte on the byte-wise lexer (the tests compare the two). */
  constructor(
    private readonly emit: (ev: JsonEvent) => void,
    private readonly limits: JsonLimits = QEMU_JSON_LIMITS,
    opts: { fastPath?: boolean } = {},
  ) {
    this.fast = opts.fastPath !== false && fastPathFits(limits);
  }

  reset(): void {
    this.state = S.Start;
    this.clearToken();
    this.tokens.length = 0;
    this.tokenBytes = 0;
    this.braces = 0;
    this.brackets = 0;
  }

  feed(buf: Uint8Array): void {
    const n = buf.length;
    // Once the fast path declines, it is tried again only after the lexer has emitted something: the bytes
    // it looked at are then behind us, so no byte is scanned twice over and over.
    let declinedAt = -1;
    for (let i = 0; i < n; i++) {
      // Between messages (or recovering from an error, at a '{' that ends the recovery, as after the 0xFF
      // before a guest-sync-delimited): a whole simple message in this chunk is read at once.
      if (
        this.fast &&
        this.tokens.length === 0 &&
        this.emitted !== declinedAt &&
        (this.state === S.Start || (this.state === S.Recovery && buf[i] === 0x7b))
      ) {
        const was = this.state;
        this.state = S.Start;
        const end = this.simpleMessage(buf, i, n);
        if (end > 0) {
          i = end - 1;
          continue;
        }
        this.state = was;
        declinedAt = this.emitted;
      }
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

  /**
   * The requests hosts send all the time (`{"execute":"guest-ping"}`, guest-sync-delimited with an integer id,
   * commands with a few plain arguments), read straight from the bytes when the whole message is in this
   * chunk: the byte-wise lexer builds a Buffer per token and the parser decodes them again, ~2 us natively
   * for a guest-ping (and TCG multiplies that by some hundreds). It takes only what the lexer and parser turn
   * into exactly the same value: objects (at most FAST_DEPTH deep, no duplicate key) of strings of printable
   * ASCII without escapes, integers of at most 15 digits, true, false and null, whitespace as the lexer skips
   * it, at most FAST_MAX_BYTES. Anything else (arrays, floats, escapes, errors, a message cut by the chunk's
   * end) returns -1 having consumed nothing, and the lexer reads it from the same byte.
   * Returns the index after the message, which has been emitted (or after whitespace only, nothing emitted).
   */
  private simpleMessage(buf: Uint8Array, start: number, n: number): number {
    const limit = Math.min(n, start + FAST_MAX_BYTES);
    const i = skipSpace(buf, start, limit);
    // Whitespace between messages (the newline after each): skipped, as the lexer would.
    if (i >= limit) return i;
    if (buf[i] !== 0x7b) return -1;
    this.fastPos = i;
    const value = this.simpleObject(buf, limit, 1);
    if (value === undefined) return -1;
    const end = this.fastPos;
    this.emitted++;
    this.emit({ value });
    return end;
  }

  /** The object whose '{' is at fastPos; on success fastPos is just past its '}'. */
  private simpleObject(buf: Uint8Array, limit: number, depth: number): JsonObject | undefined {
    const obj = newJsonObject();
    let i = skipSpace(buf, this.fastPos + 1, limit);
    if (i >= limit) return undefined;
    if (buf[i] === 0x7d) {
      this.fastPos = i + 1;
      return obj;
    }
    for (;;) {
      if (buf[i] !== 0x22) return undefined;
      const keyEnd = plainStringEnd(buf, i + 1, limit);
      if (keyEnd < 0) return undefined;
      const key = plainString(buf, i + 1, keyEnd);
      i = skipSpace(buf, keyEnd + 1, limit);
      if (i >= limit || buf[i] !== 0x3a) return undefined;
      i = skipSpace(buf, i + 1, limit);
      if (i >= limit) return undefined;
      const c = buf[i] as number;
      let value: JsonValue;
      if (c === 0x22) {
        const end = plainStringEnd(buf, i + 1, limit);
        if (end < 0) return undefined;
        value = plainString(buf, i + 1, end);
        i = end + 1;
      } else if (c === 0x7b) {
        if (depth >= FAST_DEPTH) return undefined;
        this.fastPos = i;
        const inner = this.simpleObject(buf, limit, depth + 1);
        if (inner === undefined) return undefined;
        value = inner;
        i = this.fastPos;
      } else if (c === 0x2d || (c >= 0x30 && c <= 0x39)) {
        const neg = c === 0x2d;
        if (neg) i++;
        let v = 0;
        let digits = 0;
        if (buf[i] === 0x30) {
          i++;
          digits = 1;
        } else {
          for (; i < limit; i++) {
            const d = (buf[i] as number) - 0x30;
            if (d < 0 || d > 9) break;
            if (++digits > FAST_MAX_DIGITS) return undefined;
            v = v * 10 + d;
          }
        }
        // A number the lexer would read on (more digits, a fraction, an exponent), or one the chunk may cut.
        if (digits === 0 || i >= limit) return undefined;
        const next = buf[i] as number;
        if ((next >= 0x30 && next <= 0x39) || next === 0x2e || next === 0x65 || next === 0x45) return undefined;
        value = neg ? -v : v;
      } else if (c === 0x74 || c === 0x66 || c === 0x6e) {
        // The lexer reads a run of a-z as one keyword; the parser knows three.
        let j = i;
        while (j < limit && (buf[j] as number) >= 0x61 && (buf[j] as number) <= 0x7a) j++;
        if (j >= limit) return undefined;
        const len = j - i;
        if (len === 4 && c === 0x74 && buf[i + 1] === 0x72 && buf[i + 2] === 0x75 && buf[i + 3] === 0x65) value = true;
        else if (len === 5 && c === 0x66 && buf[i + 1] === 0x61 && buf[i + 2] === 0x6c && buf[i + 3] === 0x73 && buf[i + 4] === 0x65)
          value = false;
        else if (len === 4 && c === 0x6e && buf[i + 1] === 0x75 && buf[i + 2] === 0x6c && buf[i + 3] === 0x6c) value = null;
        else return undefined;
        i = j;
      } else return undefined;
      if (Object.hasOwn(obj, key)) return undefined;
      obj[key] = value;
      i = skipSpace(buf, i, limit);
      if (i >= limit) return undefined;
      if (buf[i] === 0x7d) {
        this.fastPos = i + 1;
        return obj;
      }
      if (buf[i] !== 0x2c) return undefined;
      i = skipSpace(buf, i + 1, limit);
      if (i >= limit) return undefined;
    }
  }

  private appendRun(buf: Uint8Array, from: number, to: number): void {
    // Short strings (keys, names, ids: nearly all of them) go into the scratch; long ones (base64 data)
    // become a list of chunks, joined once at the end of the token.
    if (this.pendingLen === 0 && this.tokenLen + (to - from) <= SCRATCH_KEEP) {
      this.reserve(to - from);
      this.token.set(buf.subarray(from, to), this.tokenLen);
      this.tokenLen += to - from;
      return;
    }
    if (this.tokenLen > 0) {
      this.pendingLen += this.tokenLen;
      this.tokenChunks.push(this.copyToken());
      this.tokenLen = 0;
    }
    this.tokenChunks.push(Buffer.from(buf.subarray(from, to)));
    this.pendingLen += to - from;
  }

  private pendingLen = 0;

  private tokenLength(): number {
    return this.pendingLen + this.tokenLen;
  }

  private push(c: number): void {
    if (this.tokenLen === this.token.length) this.reserve(1);
    this.token[this.tokenLen++] = c;
  }

  /** Grows the scratch to take n more bytes. */
  private reserve(n: number): void {
    const need = this.tokenLen + n;
    if (need <= this.token.length) return;
    let size = this.token.length * 2;
    while (size < need) size *= 2;
    const bigger = Buffer.allocUnsafe(size);
    this.token.copy(bigger, 0, 0, this.tokenLen);
    this.token = bigger;
  }

  /** The scratch bytes as a Buffer of their own (tokens outlive the scratch). */
  private copyToken(): Buffer {
    const out = Buffer.allocUnsafe(this.tokenLen);
    this.token.copy(out, 0, 0, this.tokenLen);
    return out;
  }

  private takeToken(): Buffer {
    let out: Buffer;
    if (this.tokenChunks.length === 0) out = this.copyToken();
    else {
      if (this.tokenLen > 0) this.tokenChunks.push(this.copyToken());
      out = this.tokenChunks.length === 1 ? (this.tokenChunks[0] as Buffer) : Buffer.concat(this.tokenChunks);
    }
    this.clearToken();
    return out;
  }

  private clearToken(): void {
    this.tokenLen = 0;
    // A huge token (a long run of escapes) grew the scratch: do not keep it.
    if (this.token.length > SCRATCH_KEEP) this.token = Buffer.allocUnsafe(SCRATCH_SIZE);
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
            this.push(c);
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
            this.push(c);
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
    this.push(c);
    this.state = next;
    if (this.tokenLen > 4096) this.checkTokenSize();
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
        return this.finish(T.LCurly, STRUCTURAL[T.LCurly]);
      case 0x7d:
        return this.finish(T.RCurly, STRUCTURAL[T.RCurly]);
      case 0x5b:
        return this.finish(T.LSquare, STRUCTURAL[T.LSquare]);
      case 0x5d:
        return this.finish(T.RSquare, STRUCTURAL[T.RSquare]);
      case 0x2c:
        return this.finish(T.Comma, STRUCTURAL[T.Comma]);
      case 0x3a:
        return this.finish(T.Colon, STRUCTURAL[T.Colon]);
    }
    if (c >= 0x31 && c <= 0x39) return this.consume(c, S.Digits);
    if (c >= 0x61 && c <= 0x7a) return this.consume(c, S.Keyword);
    this.lexError(c);
  }

  /** A byte no token can take: qemu reports the token so far plus that byte, then skips ahead. */
  private lexError(c: number): void {
    this.push(c);
    const text = this.takeToken();
    this.state = S.Recovery;
    this.fail(`JSON parse error, stray '${decodeLossy(text)}'`);
  }

  private fail(message: string): void {
    this.tokens.length = 0;
    this.tokenBytes = 0;
    this.braces = 0;
    this.brackets = 0;
    this.emitted++;
    this.emit({ error: message });
  }

  /** `text` is given for the one-byte structural tokens, which share a constant (the scratch is empty then). */
  private finish(type: T, text = this.takeToken()): void {
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
    this.tokenBytes = 0;
    this.braces = 0;
    this.brackets = 0;
    const value = this.parser.parse(this.tokens);
    this.tokens.length = 0;
    const error = this.parser.error;
    this.emitted++;
    if (error !== undefined) this.emit({ error: `JSON parse error, ${error}` });
    else this.emit({ value: value as JsonValue });
  }
}
