// The tokens of one message as qemu's lexer hands them to its parser: kept as offsets into one buffer, and
// strings as their decoded values.
//
// Why: a message may hold 2M tokens (qemu's MAX_TOKEN_COUNT). A Buffer per token cost ~170 bytes each
// (2 MiB of `[0,0,...]` took the agent to 358 MB); here a token costs its bytes plus 4 bytes of index. And a
// string is decoded while it arrives, in parts, so its bytes are not held next to its value: a request at
// qemu's 64 MiB limit costs at most its JS strings (Latin-1: 1 byte a character, else 2) plus the other
// tokens' bytes, never bytes and strings of the same text at once.
import { type BulkString, BulkWriter, isLatin1, isPlainAscii } from './json-bulk.js';
import { decodeStringPart, PART_MARGIN, StringError } from './json-string.js';
import type { SpareBuffers } from './spare-buffers.js';

/** Token types, as json-lexer.c names them. */
export enum T {
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

/** Bytes of index per token (one Uint32: the start offset and the type). */
export const INDEX_BYTES_PER_TOKEN = 4;
/** Offsets take the high 28 bits of an index entry, the type the low 4. */
const TYPE_BITS = 4;
/** The largest message limit a TokenBuffer takes (256 MiB; the agent allows 64 MiB). */
export const MAX_MESSAGE_BYTES = 2 ** (32 - TYPE_BITS) - 1;

const INITIAL_TEXT = 256;
const INITIAL_INDEX = 64;
/** After a message, buffers grown beyond these are replaced by small ones: a large message does not pin its memory. */
const KEEP_TEXT = 64 << 10;
const KEEP_INDEX = 16 << 10;
/**
 * How much of a token an error message quotes at most (qemu's "stray '...'" quotes all of it: 64 MiB of
 * DEL bytes would become a 384 MiB reply). Also how much of a token that cannot fit the message is kept.
 */
export const QUOTE_MAX_BYTES = 64 << 10;
/** A string token is decoded in parts once this many of its bytes wait. */
const PART_BYTES = 256 << 10;
/**
 * Strings up to this many bytes keep their bytes until the message is parsed, like other tokens: a short
 * JS string costs several times its bytes (a 2-character string is 24 bytes and a list slot), so an
 * unfinished message of many short strings would hold far more than the bytes it is charged with.
 */
const SHORT_STRING_BYTES = 4096;
/** The index type of a string kept as its value (in the string list, not in text). */
export const STRING_VALUE = 15;

/** What a long string becomes: its text, its bytes (bulk data), or why it does not decode. */
export type StringValue = string | BulkString | StringError;
const NO_BULK: readonly BulkString[] = Object.freeze([]);

/**
 * One message's tokens. Tokens keep their bytes back to back in `text` (whitespace between tokens is not
 * kept), except long strings, which keep their decoded value in a list instead (their place in `text` is
 * empty). The index holds each token's start in `text` and its type. The token being
 * lexed follows the completed ones, from `current` to `length`.
 */
export class TokenBuffer {
  text: Buffer = Buffer.allocUnsafe(INITIAL_TEXT);
  /** Bytes stored in text: the completed tokens, then the current token's bytes not yet decoded. */
  length = 0;
  /** Where the token being lexed starts in text. */
  current = 0;
  /** Completed tokens. */
  count = 0;
  /** Bytes of the completed tokens as they came (qemu's token_size: what the message limit counts). */
  messageBytes = 0;
  /** Bytes of the current token as they came, those decoded or not stored included. */
  tokenLength = 0;
  private index = new Uint32Array(INITIAL_INDEX);
  /** The values of the completed string tokens, in order (or why each does not decode). */
  private readonly strings: StringValue[] = [];
  /** The completed strings kept as bytes, until the parsed message takes them (takeBulk) or is dropped. */
  private bulkValues: BulkString[] = [];
  /** The current string is bulk data: its parts go here as bytes, not to `parts` as text. */
  private bulk: BulkWriter | undefined;
  /** The current token is a string (the lexer said so at its opening quote). */
  private inString = false;
  /** Where the current string's bytes not yet decoded start (after its quote, or after the last part). */
  private partStart = 0;
  /** Decode a part once `length` reaches this. */
  private partAt = Number.POSITIVE_INFINITY;
  /** The current string's parts decoded so far, or its first error. */
  private parts: string | StringError | undefined;
  /** The first QUOTE_MAX_BYTES of the current string once its parts are decoded (what an error may quote). */
  private head: Buffer | undefined;

  /**
   * @param limit the message limit (JsonLimits.maxBytes). A token that takes the message past it fails the
   * message whatever comes next (json-stream.ts checks the sum when the token ends; the lexer cuts a token
   * longer than the limit), so beyond it only QUOTE_MAX_BYTES of the token are kept, for an error to quote.
   */
  constructor(
    private readonly limit: number,
    /** Where bulk strings' chunks come from (and go back to). */
    private readonly spares?: SpareBuffers,
  ) {
    if (limit > MAX_MESSAGE_BYTES) throw new RangeError(`a JSON message limit above ${MAX_MESSAGE_BYTES} bytes is not supported`);
  }

  /** Bytes the unfinished message is charged with: its bytes as they came, plus the index. */
  get heldBytes(): number {
    return this.messageBytes + this.tokenLength + this.count * INDEX_BYTES_PER_TOKEN;
  }

  /**
   * The current token is a string: its bytes will be decoded in parts as they arrive. `bulk`: it is bulk
   * data (json-bulk.ts), kept as bytes if it is long and all Latin-1.
   */
  beginString(bulk = false): void {
    this.inString = true;
    if (bulk) this.bulk = new BulkWriter(this.spares);
    this.partStart = this.current + 1;
    this.partAt = this.current + QUOTE_MAX_BYTES + PART_BYTES;
  }

  /** Appends one byte to the current token. */
  push(c: number): void {
    this.tokenLength++;
    if (this.doomed() && this.length - this.current >= QUOTE_MAX_BYTES) return;
    if (this.length === this.text.length) this.grow(1);
    this.text[this.length++] = c;
    if (this.length >= this.partAt) this.decodePart();
  }

  /** Appends src[from, to) to the current token. */
  append(src: Uint8Array, from: number, to: number): void {
    let n = to - from;
    this.tokenLength += n;
    if (this.doomed()) n = Math.min(n, Math.max(0, QUOTE_MAX_BYTES - (this.length - this.current)));
    if (n === 0) return;
    if (this.length + n > this.text.length) this.grow(n);
    this.text.set(src.subarray(from, from + n), this.length);
    this.length += n;
    if (this.length >= this.partAt) this.decodePart();
  }

  /** The token cannot fit the message any more: its bytes are counted, not kept (see the constructor). */
  private doomed(): boolean {
    return this.messageBytes + this.tokenLength > this.limit;
  }

  /** Decodes the bytes of the current string that are surely whole, and forgets them. */
  private decodePart(): void {
    if (this.doomed()) {
      this.partAt = Number.POSITIVE_INFINITY;
      this.bulk?.release();
      this.bulk = undefined;
      return;
    }
    this.head ??= Buffer.from(this.text.subarray(this.current, this.current + QUOTE_MAX_BYTES));
    const from = this.partStart;
    let next = this.length;
    if (this.bulk) next = this.bulkPart(from, this.length - PART_MARGIN, this.length, this.length);
    else if (!(this.parts instanceof StringError)) {
      const part = decodeStringPart(this.text, from, this.length - PART_MARGIN, this.length, this.length);
      this.parts = this.parts === undefined || part.value instanceof StringError ? part.value : this.parts + part.value;
      next = part.next;
    }
    this.text.copyWithin(from, next, this.length);
    this.length -= next - from;
    this.partAt = this.length + PART_BYTES;
  }

  /**
   * A part of a bulk string, text[from, stop) (see decodeStringPart for stop, end and tokenEnd), into the
   * bulk writer: plain ASCII as it is (base64), anything else decoded first. A part that does not decode, or
   * has a character beyond Latin-1, ends bulk mode: the string goes on as text, as any other. Returns where
   * it stopped.
   */
  private bulkPart(from: number, stop: number, end: number, tokenEnd: number): number {
    const bulk = this.bulk as BulkWriter;
    if (isPlainAscii(this.text, from, end)) {
      bulk.append(this.text, from, end);
      return end;
    }
    const part = decodeStringPart(this.text, from, stop, end, tokenEnd);
    const v = part.value;
    if (typeof v === 'string' && isLatin1(v)) bulk.appendLatin1(v);
    else {
      this.parts = v instanceof StringError ? v : bulk.toString() + v;
      this.bulk = undefined;
      if (v instanceof StringError) bulk.release();
    }
    return part.next;
  }

  /**
   * Ends the current token: it becomes the next entry of the index. A long string becomes its value (the
   * next in the string list, STRING_VALUE in the index) and its bytes are dropped.
   */
  complete(type: T): void {
    if (this.count === this.index.length) {
      const bigger = new Uint32Array(this.index.length * 2);
      bigger.set(this.index);
      this.index = bigger;
    }
    let entry: number = type;
    if (this.inString) {
      if (this.parts !== undefined || this.tokenLength > SHORT_STRING_BYTES) {
        const end = this.length - 1;
        let value: StringValue;
        if (this.bulk) {
          this.bulkPart(this.partStart, end, end, this.length);
          if (this.bulk) {
            value = this.bulk.finish();
            this.bulkValues.push(value);
          } else value = this.parts as string | StringError;
        } else {
          const last =
            this.parts instanceof StringError ? this.parts : decodeStringPart(this.text, this.partStart, end, end, this.length).value;
          value = this.parts === undefined || last instanceof StringError ? last : this.parts + last;
        }
        this.strings.push(value);
        this.length = this.current;
        entry = STRING_VALUE;
      }
      this.endString();
    }
    this.index[this.count++] = (this.current << TYPE_BITS) | entry;
    this.messageBytes += this.tokenLength;
    this.tokenLength = 0;
    this.current = this.length;
  }

  /** The stored start of the current token (at most QUOTE_MAX_BYTES of it); `cut` when that is not all of it. */
  tokenBytes(): { bytes: Buffer; cut: boolean } {
    const stored = this.head ?? this.text.subarray(this.current, Math.min(this.length, this.current + QUOTE_MAX_BYTES));
    return { bytes: stored, cut: this.tokenLength > stored.length };
  }

  /** Forgets the current token (cut, or reported as stray). */
  dropToken(): void {
    this.length = this.current;
    this.tokenLength = 0;
    this.bulk?.release();
    this.endString();
  }

  private endString(): void {
    this.inString = false;
    this.bulk = undefined;
    this.partAt = Number.POSITIVE_INFINITY;
    this.parts = undefined;
    this.head = undefined;
  }

  /** Forgets everything: the message is done (parsed or refused). */
  clear(): void {
    this.dropToken();
    this.length = 0;
    this.current = 0;
    this.count = 0;
    this.messageBytes = 0;
    this.strings.length = 0;
    if (this.bulkValues.length > 0) {
      for (const b of this.bulkValues) b.release();
      this.bulkValues = [];
    }
    if (this.text.length > KEEP_TEXT) this.text = Buffer.allocUnsafe(INITIAL_TEXT);
    if (this.index.length > KEEP_INDEX) this.index = new Uint32Array(INITIAL_INDEX);
  }

  /** Token i's type; STRING_VALUE for a string kept as its value. */
  type(i: number): T | typeof STRING_VALUE {
    return ((this.index[i] as number) & ((1 << TYPE_BITS) - 1)) as T;
  }

  start(i: number): number {
    return (this.index[i] as number) >>> TYPE_BITS;
  }

  /** The end of token i's bytes in text (strings have none there). */
  end(i: number): number {
    return i + 1 < this.count ? this.start(i + 1) : this.current;
  }

  /** The value of the k-th string kept as its value (STRING_VALUE) in the message. */
  string(k: number): StringValue {
    return this.strings[k] as StringValue;
  }

  /**
   * The message's bulk strings, which its parsed value now holds: clear() no longer gives them back, the
   * value's user does (JsonStreamReader.release).
   */
  takeBulk(): readonly BulkString[] {
    if (this.bulkValues.length === 0) return NO_BULK;
    const taken = this.bulkValues;
    this.bulkValues = [];
    return taken;
  }

  /**
   * Whether the last two completed tokens are a member name written exactly as `name` (quotes aside, no
   * escape) and its colon: what precedes a value of that member.
   */
  afterKey(name: Uint8Array): boolean {
    const n = this.count;
    if (n < 2 || this.type(n - 1) !== T.Colon || this.type(n - 2) !== T.String) return false;
    const from = this.start(n - 2) + 1;
    const to = this.start(n - 1) - 1;
    if (to - from !== name.length) return false;
    for (let i = 0; i < name.length; i++) if (this.text[from + i] !== name[i]) return false;
    return true;
  }

  /** Makes room for n more bytes: doubling, but not past what the limit lets the text reach. */
  private grow(n: number): void {
    const need = this.length + n;
    let size = this.text.length * 2;
    while (size < need) size *= 2;
    const bigger = Buffer.allocUnsafe(Math.max(need, Math.min(size, this.limit + QUOTE_MAX_BYTES)));
    this.text.copy(bigger, 0, 0, this.length);
    this.text = bigger;
  }
}
