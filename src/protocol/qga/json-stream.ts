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
