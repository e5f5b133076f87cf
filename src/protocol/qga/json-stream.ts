// The streaming JSON reader QGA needs: byte-exact with qemu's json-lexer/json-streamer/json-parser, so that
// split frames, pipelined frames, 0xFF resyncs and garbage get the same replies as qemu-ga. Written by hand
// because no JSON library reproduces QMP's recovery rules and error wording, and JSON.parse loses integers
// above 2^53 (the `context.source` reviver is not in Node 20).
//
// Split as qemu splits it: json-lexer.ts (bytes to tokens), this file (json-streamer.c: a message is the
// tokens up to balanced braces, within the limits), json-parser.ts (tokens to a value); json-fast-path.ts
// reads the common simple requests straight from the bytes; json-token.ts keeps a message's tokens as
// offsets into one buffer.

import type { BulkString } from './json-bulk.js';
import { FastPath, fastPathFits } from './json-fast-path.js';
import { JsonLexer, type LexerSink, S } from './json-lexer.js';
import { TokenParser } from './json-parser.js';
import { INDEX_BYTES_PER_TOKEN, QUOTE_MAX_BYTES, T, TokenBuffer } from './json-token.js';
import { decodeLossy } from './json-utf8.js';
import type { JsonObject, JsonValue } from './json-value.js';
import type { SpareBuffers } from './spare-buffers.js';

/** Limits per message, qemu's defaults (json-streamer.c); smaller ones may be configured. */
export interface JsonLimits {
  maxBytes: number;
  maxTokens: number;
  maxNesting: number;
}
export const QEMU_JSON_LIMITS: JsonLimits = { maxBytes: 64 << 20, maxTokens: 2 << 20, maxNesting: 1024 };

/** Bytes a token on average, at least, that the token limit allows for (see jsonLimits). */
const BYTES_PER_TOKEN = 128;

/**
 * The limits for a message size (the agent's --max-request-bytes): the token count scales with it, one token
 * per BYTES_PER_TOKEN bytes (512k at 64 MiB; qemu allows 2M at any size, 32 bytes a token). What bounds the
 * parsed value of a message of tiny tokens: each costs ~20-60 bytes as a JS value (objects, floats, short
 * strings), so qemu's 2M cost ~100 MB, with 2 x 64 MiB of strings beside it more than the DaemonSet's
 * 256 MiB (measured: docs/security.md). Real requests stay far below (a list of 32k memory blocks is 330k
 * tokens). The nesting limit stays qemu's: a level costs a stack frame, not memory that adds up.
 */
export function jsonLimits(maxBytes: number): JsonLimits {
  return {
    maxBytes,
    maxTokens: Math.min(QEMU_JSON_LIMITS.maxTokens, Math.max(1, Math.floor(maxBytes / BYTES_PER_TOKEN))),
    maxNesting: QEMU_JSON_LIMITS.maxNesting,
  };
}

/**
 * What one message at these limits can hold at most, as JsonStreamReader.bufferedBytes counts it: its bytes
 * plus 4 bytes of index per token (66 MiB at the agent's default limits). The agent's default budget for all
 * connections together, so that one largest request always fits.
 */
export function maxMessageCharge(limits: JsonLimits): number {
  return limits.maxBytes + INDEX_BYTES_PER_TOKEN * limits.maxTokens;
}

/** What the reader hands on: one parsed value, or one error text (a reply is owed for both). */
export type JsonEvent = { value: JsonValue } | { error: string };

/**
 * Receives each event. Returning false asks feed() to stop right after this event and return where it
 * stopped (the agent reads one request at a time while one is under way); anything else reads on.
 */
export type JsonEventHandler = (ev: JsonEvent) => unknown;

/** How the reader treats bulk data (json-bulk.ts); without it every string is a JS string. */
export interface BulkOptions {
  /** Members of a request's `arguments` whose long values are kept as bytes (the command table's bulk arguments). */
  keys: readonly string[];
  /** Where their chunks come from and go back to (one pool for all connections). */
  spares: SpareBuffers;
}

const ARGUMENTS_KEY = Buffer.from('arguments');
const NONE: readonly BulkString[] = [];

/**
 * Feed it bytes as they arrive; it calls `emit` once per complete top-level value or error.
 * One instance per connection; `reset()` when the peer reconnects.
 */
export class JsonStreamReader implements LexerSink {
  private readonly tokens: TokenBuffer;
  private readonly lexer: JsonLexer;
  private readonly parser = new TokenParser();
  /** The fast path, when the limits allow it and the caller did not turn it off. */
  private readonly fast: FastPath | undefined;
  private braces = 0;
  private brackets = 0;
  /** Events emitted so far (feed uses it to retry the fast path only after progress). */
  private emitted = 0;
  /** The handler asked to stop after the current event. */
  stopping = false;
  /** The bulk argument names as bytes, when bulk strings are on. */
  private readonly bulkKeys: readonly Uint8Array[] | undefined;
  /** The current message is at depth 2 in its top-level object's `arguments` member (braces permitting). */
  private inArguments = false;
  /** The last event of a value the fast path remembered (repeatEvent). */
  private repeated: { readonly value: JsonObject } | undefined;
  /** The bulk strings of the value handed on last, given back by release(). */
  private handed: readonly BulkString[] = NONE;
  /**
   * What the message last handed on held while it was read (token bytes plus index; for the fast path its
   * length): the agent charges a request under way with it.
   */
  lastMessageBytes = 0;

  /**
   * `fastPath: false` keeps every byte on the byte-wise lexer (the tests compare the two). `bulk`: long
   * values of these argument names become BulkStrings, valid while the handler runs: until `emit` returns
   * (unless it returns false), or else until release() or the next feed().
   */
  constructor(
    private readonly emit: JsonEventHandler,
    private readonly limits: JsonLimits = QEMU_JSON_LIMITS,
    opts: { fastPath?: boolean; bulk?: BulkOptions } = {},
  ) {
    this.tokens = new TokenBuffer(limits.maxBytes, opts.bulk?.spares);
    this.bulkKeys = opts.bulk?.keys.map((k) => Buffer.from(k, 'latin1'));
    this.lexer = new JsonLexer(this.tokens, this, limits.maxBytes);
    this.fast = opts.fastPath !== false && fastPathFits(limits) ? new FastPath() : undefined;
  }

  reset(): void {
    this.release();
    this.lexer.reset();
    this.tokens.clear();
    this.braces = 0;
    this.brackets = 0;
    this.inArguments = false;
  }

  /** The value handed on last is done with: its bulk strings go back to the pool (and may not be read again). */
  release(): void {
    if (this.handed.length === 0) return;
    for (const b of this.handed) b.release();
    this.handed = NONE;
  }

  /** LexerSink: a string that starts here is bulk data when it is the value of a bulk member of `arguments`. */
  bulkValue(): boolean {
    const keys = this.bulkKeys;
    if (keys === undefined || !this.inArguments || this.braces !== 2 || this.brackets !== 0) return false;
    for (const k of keys) if (this.tokens.afterKey(k)) return true;
    return false;
  }

  /** Bytes the unfinished message holds now (its tokens so far and their index); 0 between messages. */
  get bufferedBytes(): number {
    return this.tokens.heldBytes;
  }

  /**
   * Gives up the unfinished message: `reason` is emitted as an error event, and the bytes that follow are
   * skipped up to the next structural or control character, as after a stray byte (the rest of a long
   * string would otherwise be read as one bad token after another). The agent calls it when the requests
   * of all connections together hold too much. False when there was nothing to give up.
   */
  abandon(reason: string): boolean {
    if (this.tokens.heldBytes === 0) return false;
    this.lexer.reset();
    this.lexer.state = S.Recovery;
    this.fail(reason);
    return true;
  }

  /**
   * Reads buf[from, to). Returns the index where it stopped: `to`, or, when the handler returned false, just
   * after the event's last byte (feed the rest later to carry on).
   */
  feed(buf: Uint8Array, from = 0, to = buf.length): number {
    const n = to;
    const lexer = this.lexer;
    this.stopping = false;
    this.release();
    // Once the fast path declines, it is tried again only after the lexer has emitted something: the bytes
    // it looked at are then behind us, so no byte is scanned twice over and over.
    let declinedAt = -1;
    for (let i = from; i < n; i++) {
      // Between messages (or recovering from an error, at a '{' that ends the recovery, as after the 0xFF
      // before a guest-sync-delimited): a whole simple message in this chunk is read at once.
      const fast = this.fast;
      if (
        fast !== undefined &&
        this.tokens.count === 0 &&
        this.emitted !== declinedAt &&
        (lexer.state === S.Start || (lexer.state === S.Recovery && buf[i] === 0x7b))
      ) {
        const end = fast.message(buf, i, n);
        if (end > 0) {
          lexer.state = S.Start;
          const value = fast.value;
          if (value !== undefined) {
            this.lastMessageBytes = end - i;
            this.hand(fast.repeated ? this.repeatEvent(value) : { value });
            if (this.stopping) return end;
          }
          i = end - 1;
          continue;
        }
        declinedAt = this.emitted;
      }
      // Through the body of a string at once: the common bulk of large requests (base64 data).
      const st = lexer.state;
      if (st === S.DqString || st === S.SqString) {
        const j = lexer.stringRun(buf, i, n);
        if (j > i) {
          if (lexer.state !== st) {
            // Cut at the size limit: the bytes after it are read afresh.
            if (this.stopping) return j;
            i = j - 1;
            continue;
          }
          i = j;
          if (i >= n) break;
        }
      }
      if (!lexer.byte(buf[i] as number)) return i;
      if (this.stopping) return i + 1;
    }
    return n;
  }

  /** The event for a value the fast path remembered (frozen, handed on again): made once, like the value. */
  private repeatEvent(value: JsonObject): JsonEvent {
    let ev = this.repeated;
    if (ev === undefined || ev.value !== value) ev = this.repeated = Object.freeze({ value });
    return ev;
  }

  private hand(ev: JsonEvent): void {
    this.emitted++;
    if (this.emit(ev) === false) this.stopping = true;
    else this.release();
  }

  private fail(message: string): void {
    this.lastMessageBytes = 0;
    this.tokens.clear();
    this.braces = 0;
    this.brackets = 0;
    this.inArguments = false;
    this.hand({ error: message });
  }

  /** LexerSink: json-streamer.c's json_message_process_token. */
  token(type: T): void {
    switch (type) {
      case T.LCurly:
        this.braces++;
        // The object that holds a request's arguments: `{"arguments": {` at the top level.
        if (this.bulkKeys !== undefined && this.braces === 2 && this.brackets === 0) this.inArguments = this.tokens.afterKey(ARGUMENTS_KEY);
        break;
      case T.RCurly:
        this.braces--;
        if (this.braces < 2) this.inArguments = false;
        break;
      case T.LSquare:
        this.brackets++;
        break;
      case T.RSquare:
        this.brackets--;
        break;
    }
    const tb = this.tokens;
    if (tb.messageBytes + tb.tokenLength + 1 > this.limits.maxBytes) return this.fail('JSON token size limit exceeded');
    if (tb.count + 1 > this.limits.maxTokens) return this.fail('JSON token count limit exceeded');
    if (this.braces + this.brackets > this.limits.maxNesting) return this.fail('JSON nesting depth limit exceeded');
    tb.complete(type);
    if ((this.braces > 0 || this.brackets > 0) && this.braces >= 0 && this.brackets >= 0) return;
    this.braces = 0;
    this.brackets = 0;
    this.inArguments = false;
    const value = this.parser.parse(tb);
    this.lastMessageBytes = tb.heldBytes;
    const error = this.parser.error;
    if (error === undefined) this.handed = tb.takeBulk();
    tb.clear();
    this.hand(error !== undefined ? { error: `JSON parse error, ${error}` } : { value: value as JsonValue });
  }

  /** LexerSink: qemu reports the token so far plus the stray byte; we quote at most QUOTE_MAX_BYTES of it. */
  stray(): void {
    const { bytes, cut } = this.tokens.tokenBytes();
    const long = cut || bytes.length > QUOTE_MAX_BYTES;
    const text = decodeLossy(long ? bytes.subarray(0, QUOTE_MAX_BYTES) : bytes);
    this.fail(`JSON parse error, stray '${text}${long ? '...' : ''}'`);
  }

  /** LexerSink: a token cut at the size limit. */
  tooLong(): void {
    this.fail('JSON token size limit exceeded');
  }
}
