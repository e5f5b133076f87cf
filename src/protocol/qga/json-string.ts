// String tokens to JS strings as json-parser.c's parse_string reads them (escapes, modified UTF-8, its error
// texts), a part at a time: a long string is decoded while it is still arriving, so its bytes are not kept
// next to its value (a 64 MiB string of which one character is not Latin-1 is 128 MiB as a JS string).
import { latin1Slice } from './json-fast-path.js';
import { decodeLossy, decodeModifiedUtf8, isNoncharacter } from './json-utf8.js';

/** A string token that does not decode: the parser reports `error` when (and only if) it reaches it. */
export class StringError {
  constructor(readonly error: string) {}
}

/** A part decoded by decodeStringPart. */
export interface StringPart {
  /** The text, or a StringError (the first error of the part). */
  value: string | StringError;
  /** Where decoding stopped: `end` for the last part; before a character the bytes may not hold all of yet otherwise. */
  next: number;
}

/**
 * Bytes a caller keeps after `stop` when decoding a part of a string that is still arriving: the longest
 * unit, an escaped surrogate pair `\uD83D\uDE00`, has 12 bytes, so every unit that starts before `stop` is
 * whole.
 */
export const PART_MARGIN = 16;

/**
 * Decodes a string body, text[from, end). For the last part (or a whole string) stop === end and `end` is
 * the index of the closing quote (tokenEnd the index after it). For a part of a string still arriving,
 * end === tokenEnd is the end of the bytes so far and stop = end - PART_MARGIN: units starting before stop
 * are decoded, and a run of UTF-8 is cut before a character that may be incomplete.
 */
export function decodeStringPart(text: Buffer, from: number, stop: number, end: number, tokenEnd: number): StringPart {
  // Fastest path: plain ASCII (keys, command names, base64): no escape, nothing to validate, cut anywhere.
  let i = from;
  while (i < end) {
    const c = text[i] as number;
    if (c === 0x5c || c >= 0x80) break;
    i++;
  }
  if (i === end) return { value: latin1Slice(text, from, end), next: end };
  // No escapes, whole: valid UTF-8 or an error.
  if (stop === end && text.subarray(i, end).indexOf(0x5c) < 0) {
    const s = decodeModifiedUtf8(text.subarray(from, end));
    return { value: s ?? new StringError('invalid UTF-8 sequence in string'), next: end };
  }
  // Pieces are joined in batches: `out += piece` would leave one cons-string object (~32 bytes) per escape,
  // a gigabyte for a 64 MiB string of escapes.
  const out = new StringBatches();
  i = from;
  while (i < stop) {
    const c = text[i] as number;
    if (c !== 0x5c) {
      let j = i;
      while (j < end && text[j] !== 0x5c) j++;
      if (j === end && stop < end) {
        // The bytes so far end inside this run: stop before its last character, which may be incomplete
        // (never between the bytes of one: a continuation byte is never the first of a part).
        let k = end - 1;
        while (k > i && ((text[k] as number) & 0xc0) === 0x80) k--;
        if (k > i) j = k;
      }
      const seg = decodeModifiedUtf8(text.subarray(i, j));
      if (seg === undefined) return { value: new StringError('invalid UTF-8 sequence in string'), next: end };
      out.add(seg);
      i = j;
      continue;
    }
    const e = text[i + 1] as number;
    i += 2;
    const simple = SIMPLE_ESCAPES[e];
    if (simple !== undefined) {
      out.add(simple);
      continue;
    }
    if (e !== 0x75) return { value: new StringError('invalid escape sequence in string'), next: end };
    // \uXXXX, and a surrogate pair as two of them.
    const start = i - 2;
    let cp = hex4(text, i, tokenEnd);
    i += 4;
    if (cp >= 0xd800 && cp <= 0xdbff && i + 1 < tokenEnd && text[i] === 0x5c && text[i + 1] === 0x75) {
      const trail = hex4(text, i + 2, tokenEnd);
      if (trail >= 0xdc00 && trail <= 0xdfff) {
        cp = 0x10000 + ((cp & 0x3ff) << 10) + (trail & 0x3ff);
        i += 6;
      } else cp = -1;
    }
    // Modified UTF-8 (qemu): \u0000 is allowed; lone surrogates, noncharacters and bad hex are not.
    if (cp < 0 || (cp >= 0xd800 && cp <= 0xdfff) || isNoncharacter(cp)) {
      // qemu prints the escape as the 6 bytes from the backslash, stopping at the token's end (the quote included).
      const shown = decodeLossy(text.subarray(start, Math.min(i, tokenEnd)));
      return { value: new StringError(`${shown} is not a valid Unicode character`), next: end };
    }
    out.add(String.fromCodePoint(cp));
  }
  return { value: out.join(), next: i };
}

/** The one-character escapes json-parser.c knows (\u aside), by the byte after the backslash. */
const SIMPLE_ESCAPES: (string | undefined)[] = [];
for (const [c, v] of [
  ['"', '"'],
  ["'", "'"],
  ['\\', '\\'],
  ['/', '/'],
  ['b', '\b'],
  ['f', '\f'],
  ['n', '\n'],
  ['r', '\r'],
  ['t', '\t'],
] as const)
  SIMPLE_ESCAPES[c.charCodeAt(0)] = v;

/** Pieces of a string built in batches of flat strings: memory stays about twice the result, whatever the piece count. */
class StringBatches {
  private readonly batch: string[] = [];
  private done: string[] | undefined;

  add(piece: string): void {
    this.batch.push(piece);
    if (this.batch.length >= 4096) {
      (this.done ??= []).push(this.batch.join(''));
      this.batch.length = 0;
    }
  }

  join(): string {
    const tail = this.batch.join('');
    if (!this.done) return tail;
    this.done.push(tail);
    return this.done.join('');
  }
}

/** Four hex digits at b[at] (before `limit`, the token's end) as a number; -1 when they are not. */
function hex4(b: Buffer, at: number, limit: number): number {
  let cp = 0;
  for (let k = 0; k < 4; k++) {
    if (at + k >= limit) return -1;
    const c = b[at + k] as number;
    let d: number;
    if (c >= 0x30 && c <= 0x39) d = c - 0x30;
    else if (c >= 0x61 && c <= 0x66) d = c - 0x61 + 10;
    else if (c >= 0x41 && c <= 0x46) d = c - 0x41 + 10;
    else return -1;
    cp = (cp << 4) | d;
  }
  return cp;
}
