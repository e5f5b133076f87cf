// The streaming JSON reader QGA needs: byte-exact with qemu's json-lexer/json-streamer/json-parser,
// so that split frames, pipelined frames, 0xFF resyncs and garbage get the same replies as qemu-ga.
// Written by hand because no JSON library reproduces QMP's recovery rules and error wording, and
// JSON.parse loses integers above 2^53 (the `context.source` reviver is not in Node 20).
import { TokenParser } from './json-parser.js';
import { T, type Token } from './json-token.js';
import { decodeLossy } from './json-utf8.js';
import type { JsonValue } from './json-value.js';

/** Limits per message, qemu's defaults (json-streamer.c); smaller ones may be configured. */
export interface JsonLimits {
  maxBytes: number;
  maxTokens: number;
  maxNesting: number;
}
export const QEMU_JSON_LIMITS: JsonLimits = { maxBytes: 64 << 20, maxTokens: 2 << 20, maxNesting: 1024 };

/** What the reader hands on: one parsed value, or one error text (a reply is owed for both). */
export type JsonEvent = { value: JsonValue } | { error: string };

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

  constructor(
    private readonly emit: (ev: JsonEvent) => void,
    private readonly limits: JsonLimits = QEMU_JSON_LIMITS,
  ) {}

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
    if (error !== undefined) this.emit({ error: `JSON parse error, ${error}` });
    else this.emit({ value: value as JsonValue });
  }
}
