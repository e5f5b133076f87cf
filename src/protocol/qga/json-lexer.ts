// json-lexer.c's state machine: bytes in, tokens out (into a TokenBuffer), with qemu's recovery rules,
// so that garbage, 0xFF resyncs and over-long tokens give the same errors as qemu-ga.
import { T, type TokenBuffer } from './json-token.js';

/** What the lexer reports to (json-stream.ts's reader); the token's bytes are the buffer's current token. */
export interface LexerSink {
  /** A token ended. */
  token(type: T): void;
  /** A byte no token can take ended the current token (that byte included): qemu reports it as stray. */
  stray(): void;
  /** The current token grew past the size limit: qemu cuts it there and hands it on as it stands. */
  tooLong(): void;
  /** True when the sink asked to stop after the event it just had (JsonStreamReader.feed then returns). */
  readonly stopping: boolean;
  /** Asked at a string's opening quote: whether it is bulk data, to be kept as bytes (json-bulk.ts). */
  bulkValue(): boolean;
}

/** Lexer states, json-lexer.c's (IN_RECOVERY ... IN_START). */
export enum S {
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

/** Number and keyword tokens are checked against the size limit only past this length (a cheap test per byte). */
const CHEAP_TOKEN_BYTES = 4096;

/** json-lexer.c as a byte-at-a-time state machine, plus a bulk path through string bodies. */
export class JsonLexer {
  state = S.Start;

  constructor(
    private readonly tokens: TokenBuffer,
    private readonly sink: LexerSink,
    private readonly maxBytes: number,
  ) {}

  /** Back to the start state, the current token forgotten (the reader's reset). */
  reset(): void {
    this.state = S.Start;
    this.tokens.dropToken();
  }

  /**
   * Inside a string: takes the run of plain bytes from buf[i] on (the bulk of large requests, base64 data) in
   * one copy. Returns the index after what it took (i when nothing). qemu cuts a token the moment it is one
   * byte over the limit, so the run stops there and the cut happens exactly where the byte-wise path cuts.
   */
  stringRun(buf: Uint8Array, i: number, n: number): number {
    const quote = this.state === S.DqString ? 0x22 : 0x27;
    const stop = Math.min(n, i + this.maxBytes + 1 - this.tokens.tokenLength);
    let j = i;
    while (j < stop) {
      const c = buf[j] as number;
      if (c === quote || c === 0x5c || c < 0x20 || c > 0xfd) break;
      j++;
    }
    if (j > i) {
      this.tokens.append(buf, i, j);
      this.checkTokenSize();
    }
    return j;
  }

  /** Feeds one byte. False when the byte was not consumed: the sink stopped on a token that this byte ended. */
  byte(c: number): boolean {
    for (;;) {
      const st = this.state;
      switch (st) {
        case S.Recovery:
          // Skip until a structural character, a control character other than TAB, or 0xFE/0xFF.
          if ((c < 0x20 && c !== 0x09) || c >= 0xfe || c === 0x5b || c === 0x5d || c === 0x7b || c === 0x7d || c === 0x3a || c === 0x2c) {
            this.state = S.Start;
            continue; // look at the same byte again from Start
          }
          return true;
        case S.Start:
          this.start(c);
          return true;
        case S.DqString:
        case S.SqString: {
          const quote = st === S.DqString ? 0x22 : 0x27;
          if (c >= 0x20 && c <= 0xfd) {
            this.tokens.push(c);
            if (c === 0x5c) this.state = st === S.DqString ? S.DqEscape : S.SqEscape;
            else if (c === quote) this.finish(T.String);
            else this.checkTokenSize();
            return true;
          }
          this.lexError(c);
          return true;
        }
        case S.DqEscape:
        case S.SqEscape:
          if (c >= 0x20 && c <= 0xfd) {
            this.tokens.push(c);
            this.state = st === S.DqEscape ? S.DqString : S.SqString;
            return true;
          }
          this.lexError(c);
          return true;
        case S.Zero:
          if (c >= 0x30 && c <= 0x39) break;
          if (c === 0x2e) return this.consume(c, S.Mantissa);
          if (this.lookahead(T.Integer)) return false;
          continue;
        case S.Sign:
          if (c === 0x30) return this.consume(c, S.Zero);
          if (c >= 0x31 && c <= 0x39) return this.consume(c, S.Digits);
          break;
        case S.Digits:
          if (c >= 0x30 && c <= 0x39) return this.consume(c, S.Digits);
          if (c === 0x65 || c === 0x45) return this.consume(c, S.ExpE);
          if (c === 0x2e) return this.consume(c, S.Mantissa);
          if (this.lookahead(T.Integer)) return false;
          continue;
        case S.Mantissa:
          if (c >= 0x30 && c <= 0x39) return this.consume(c, S.MantissaDigits);
          break;
        case S.MantissaDigits:
          if (c >= 0x30 && c <= 0x39) return this.consume(c, S.MantissaDigits);
          if (c === 0x65 || c === 0x45) return this.consume(c, S.ExpE);
          if (this.lookahead(T.Float)) return false;
          continue;
        case S.ExpE:
          if (c === 0x2d || c === 0x2b) return this.consume(c, S.ExpSign);
          if (c >= 0x30 && c <= 0x39) return this.consume(c, S.ExpDigits);
          break;
        case S.ExpSign:
          if (c >= 0x30 && c <= 0x39) return this.consume(c, S.ExpDigits);
          break;
        case S.ExpDigits:
          if (c >= 0x30 && c <= 0x39) return this.consume(c, S.ExpDigits);
          if (this.lookahead(T.Float)) return false;
          continue;
        case S.Keyword:
          if (c >= 0x61 && c <= 0x7a) return this.consume(c, S.Keyword);
          if (this.lookahead(T.Keyword)) return false;
          continue;
      }
      // The states that break out of the switch met a byte their token cannot take.
      this.lexError(c);
      return true;
    }
  }

  /** A number or keyword ended at the byte after it, which is then looked at again; true when the sink stopped first. */
  private lookahead(type: T): boolean {
    this.finish(type);
    return this.sink.stopping;
  }

  private consume(c: number, next: S): true {
    this.tokens.push(c);
    this.state = next;
    if (this.tokens.tokenLength > CHEAP_TOKEN_BYTES) this.checkTokenSize();
    return true;
  }

  private start(c: number): void {
    switch (c) {
      case 0x20:
      case 0x09:
      case 0x0d:
      case 0x0a:
        return;
      case 0x22:
        this.consume(c, S.DqString);
        this.tokens.beginString(this.sink.bulkValue());
        return;
      case 0x27:
        this.consume(c, S.SqString);
        this.tokens.beginString(this.sink.bulkValue());
        return;
      case 0x30:
        this.consume(c, S.Zero);
        return;
      case 0x2d:
        this.consume(c, S.Sign);
        return;
      case 0x7b:
        return this.structural(c, T.LCurly);
      case 0x7d:
        return this.structural(c, T.RCurly);
      case 0x5b:
        return this.structural(c, T.LSquare);
      case 0x5d:
        return this.structural(c, T.RSquare);
      case 0x2c:
        return this.structural(c, T.Comma);
      case 0x3a:
        return this.structural(c, T.Colon);
    }
    if (c >= 0x31 && c <= 0x39) this.consume(c, S.Digits);
    else if (c >= 0x61 && c <= 0x7a) this.consume(c, S.Keyword);
    else this.lexError(c);
  }

  private structural(c: number, type: T): void {
    this.tokens.push(c);
    this.finish(type);
  }

  private finish(type: T): void {
    this.state = S.Start;
    this.sink.token(type);
  }

  /** A byte no token can take: qemu reports the token so far plus that byte, then skips ahead. */
  private lexError(c: number): void {
    this.tokens.push(c);
    this.state = S.Recovery;
    this.sink.stray();
  }

  /** qemu cuts a token that grows past the size limit and hands it on as it stands. True when it did. */
  checkTokenSize(): boolean {
    if (this.tokens.tokenLength <= this.maxBytes) return false;
    this.state = S.Start;
    this.sink.tooLong();
    return true;
  }
}
