// The fast path for the requests hosts send all the time (`{"execute":"guest-ping"}`, guest-sync-delimited
// with an integer id, commands with a few plain arguments): read straight from the bytes when the whole
// message is in one chunk. The lexer and parser take ~2 us natively for a guest-ping (TCG multiplies that by
// some hundreds); this takes a fraction of it. It takes only what the lexer and parser turn into exactly the
// same value, and declines everything else without consuming a byte (json-stream.test.ts checks the two
// agree on every input and chunking).
import { type JsonObject, type JsonValue, newJsonObject } from './json-value.js';

/** Messages of at most this many bytes, objects nested at most FAST_DEPTH deep (see fastPathFits). */
const FAST_MAX_BYTES = 4096;
const FAST_DEPTH = 4;
/** Integers of at most 15 digits are exact doubles: the parser makes them plain numbers too. */
const FAST_MAX_DIGITS = 15;

/** Whether the limits can never cut a message the fast path would take (else it must stay off). */
export const fastPathFits = (l: { maxBytes: number; maxTokens: number; maxNesting: number }) =>
  l.maxBytes > 2 * FAST_MAX_BYTES && l.maxTokens > FAST_MAX_BYTES && l.maxNesting >= FAST_DEPTH;

const isJsonSpace = (c: number) => c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09;

/** The index of the first byte from `i` on that is not whitespace the lexer skips, or `limit`. */
function skipSpace(buf: Uint8Array, i: number, limit: number): number {
  while (i < limit && isJsonSpace(buf[i] as number)) i++;
  return i;
}

/**
 * buf[from, to) as latin1. Buffer's own latin1Slice (what toString('latin1') ends in, without its argument
 * handling; it takes any Uint8Array), or the documented way if a Node lacks it.
 */
export const latin1Slice: (buf: Uint8Array, from: number, to: number) => string =
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

/**
 * A flat message (no nested object: no `arguments`) of at most this many bytes is remembered, and the same
 * bytes again give the same value (see FastPath.repeated).
 */
const REPEAT_MAX_BYTES = 128;

/**
 * Reads simple messages: objects (at most FAST_DEPTH deep, no duplicate key) of strings of printable ASCII
 * without escapes, integers of at most 15 digits, true, false and null, whitespace as the lexer skips it,
 * at most FAST_MAX_BYTES. Anything else (arrays, floats, escapes, errors, a message cut by the chunk's end)
 * is declined having consumed nothing, and the lexer reads it from the same byte.
 *
 * Hosts send the same few bytes over and over (`{"execute":"guest-ping"}` every few seconds from Proxmox,
 * in a loop from a monitor): the last flat message is remembered with its value, frozen, and when the same
 * bytes come again that value is handed on again instead of a new object: nothing per request for the
 * scavenger to clear. Flat only: its members are strings, numbers, booleans and null, so freezing the
 * object makes the whole value read-only (a request with `arguments` gets a new value each time, since
 * handlers are given its arguments object). The bytes compared are a whole object ('{' to its '}'), which
 * the lexer reads the same way whatever follows it.
 */
export class FastPath {
  /** The message read by the last message() that returned an index after one; else undefined. */
  value: JsonObject | undefined;
  /** `value` is the remembered one, the same object as the last time these bytes came (frozen). */
  repeated = false;
  /** Position while descending. */
  private pos = 0;
  /** The remembered flat message's bytes (repeatLength of them) and its value. */
  private readonly repeatBytes = new Uint8Array(REPEAT_MAX_BYTES);
  private repeatLength = 0;
  private repeatValue: JsonObject | undefined;
  /** The object being read has a nested object (so it is not remembered). */
  private nested = false;

  /**
   * Returns the index after the message (in `value`), or after whitespace only (`value` undefined), or -1
   * when it declines.
   */
  message(buf: Uint8Array, start: number, n: number): number {
    this.value = undefined;
    this.repeated = false;
    const limit = Math.min(n, start + FAST_MAX_BYTES);
    const i = skipSpace(buf, start, limit);
    // Whitespace between messages (the newline after each): skipped, as the lexer would.
    if (i >= limit) return i;
    if (buf[i] !== 0x7b) return -1;
    if (this.isRepeat(buf, i, n)) {
      this.value = this.repeatValue;
      this.repeated = true;
      return i + this.repeatLength;
    }
    this.pos = i;
    this.nested = false;
    const value = this.object(buf, limit, 1);
    if (value === undefined) return -1;
    this.value = value;
    const end = this.pos;
    if (!this.nested && end - i <= REPEAT_MAX_BYTES) this.remember(buf, i, end, value);
    return end;
  }

  /** Whether the remembered message's bytes come next, whole, at buf[i]. */
  private isRepeat(buf: Uint8Array, i: number, n: number): boolean {
    const len = this.repeatLength;
    if (len === 0 || n - i < len) return false;
    const known = this.repeatBytes;
    for (let k = 0; k < len; k++) if (buf[i + k] !== known[k]) return false;
    return true;
  }

  /** Remembers a flat message and its value; the value is frozen, as it will be handed on again. */
  private remember(buf: Uint8Array, from: number, to: number, value: JsonObject): void {
    const known = this.repeatBytes;
    for (let k = from; k < to; k++) known[k - from] = buf[k] as number;
    this.repeatLength = to - from;
    this.repeatValue = Object.freeze(value);
    this.repeated = true;
  }

  /** The object whose '{' is at pos; on success pos is just past its '}'. */
  private object(buf: Uint8Array, limit: number, depth: number): JsonObject | undefined {
    const obj = newJsonObject();
    let i = skipSpace(buf, this.pos + 1, limit);
    if (i >= limit) return undefined;
    if (buf[i] === 0x7d) {
      this.pos = i + 1;
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
        this.nested = true;
        this.pos = i;
        const inner = this.object(buf, limit, depth + 1);
        if (inner === undefined) return undefined;
        value = inner;
        i = this.pos;
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
        this.pos = i + 1;
        return obj;
      }
      if (buf[i] !== 0x2c) return undefined;
      i = skipSpace(buf, i + 1, limit);
      if (i >= limit) return undefined;
    }
  }
}
