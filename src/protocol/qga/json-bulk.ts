// A long JSON string that carries bulk data (guest-exec's input-data, guest-file-write's buf-b64: base64)
// kept as its bytes, never as a JS string.
//
// Why: such a string is up to 64 MiB of base64 (qemu-ga's request limit), and its handler only decodes it.
// As a JS string it lived on V8's heap, where each request's string stayed until a mark-compact found it
// dead: 30 guest-exec requests of 16 MiB input-data, 28 of them refused before decoding, grew the heap to
// ~155 MB between mark-compacts and took the agent to 307-333 MB (docs/security.md). As bytes, in chunks
// handed back to a SpareBuffers pool the moment the request is answered, a request costs its bytes while
// it is read and handled, and the next request reuses them.
//
// Only the JSON reader makes these (json-token.ts), for a string longer than 4 KiB whose characters are
// all Latin-1 (one byte each here) that is the value of a member the command table marks bulk, directly
// inside the request's `arguments`. Anything else stays a JS string, and so does a bulk string with a
// character beyond Latin-1 (it cannot be base64: its handler refuses it as before).
import type { SpareBuffers } from './spare-buffers.js';

/** Bytes per chunk: a multiple of 4, so that base64 quads never straddle two chunks. */
export const BULK_CHUNK_BYTES = 256 << 10;

/** A JSON string kept as Latin-1 bytes (one byte a character), in chunks; valid until released. */
export class BulkString {
  private chunks: Buffer[] | undefined;

  /** `chunks`: all BULK_CHUNK_BYTES long (the last may hold less); `length` characters in all. */
  constructor(
    chunks: Buffer[],
    /** Characters, which are bytes here. */
    readonly length: number,
    private readonly spares: SpareBuffers | undefined,
  ) {
    this.chunks = chunks;
  }

  /** How many chunks hold the bytes. */
  get chunkCount(): number {
    return this.live().length;
  }

  /** Chunk i's bytes: BULK_CHUNK_BYTES of them, fewer in the last. */
  chunk(i: number): Buffer {
    const c = this.live()[i] as Buffer;
    const len = Math.min(BULK_CHUNK_BYTES, this.length - i * BULK_CHUNK_BYTES);
    return len === c.length ? c : c.subarray(0, len);
  }

  /** The byte (character code) at i. */
  byteAt(i: number): number {
    const c = this.live()[Math.floor(i / BULK_CHUNK_BYTES)] as Buffer;
    return c[i % BULK_CHUNK_BYTES] as number;
  }

  /** The string as a JS string (only where a caller needs text: it costs the string). */
  toString(): string {
    const n = this.live().length;
    let s = '';
    for (let i = 0; i < n; i++) s += this.chunk(i).toString('latin1');
    return s;
  }

  /** Whether release() was called: then nothing may be read from it any more. */
  get released(): boolean {
    return this.chunks === undefined;
  }

  /** The request is done: the chunks go back to the pool (JsonStreamReader.release calls it). */
  release(): void {
    const chunks = this.chunks;
    if (chunks === undefined) return;
    this.chunks = undefined;
    if (this.spares) for (const c of chunks) this.spares.give(c);
  }

  private live(): Buffer[] {
    if (this.chunks === undefined) throw new Error('a bulk string was read after its request was done (a bug in guestlink)');
    return this.chunks;
  }
}

/** Collects a bulk string's bytes while it arrives, chunk by chunk from the pool. */
export class BulkWriter {
  private chunks: Buffer[] = [];
  /** Bytes written so far. */
  length = 0;

  constructor(private readonly spares: SpareBuffers | undefined) {}

  /** Appends src[from, to). */
  append(src: Uint8Array, from: number, to: number): void {
    while (from < to) {
      const [chunk, at] = this.room();
      const n = Math.min(to - from, BULK_CHUNK_BYTES - at);
      chunk.set(src.subarray(from, from + n), at);
      this.length += n;
      from += n;
    }
  }

  /** Appends a string whose characters are all Latin-1, one byte each. */
  appendLatin1(s: string): void {
    let from = 0;
    while (from < s.length) {
      const [chunk, at] = this.room();
      const n = Math.min(s.length - from, BULK_CHUNK_BYTES - at);
      chunk.write(from === 0 && n === s.length ? s : s.slice(from, from + n), at, n, 'latin1');
      this.length += n;
      from += n;
    }
  }

  /** The bytes so far as a BulkString; the writer is then empty. */
  finish(): BulkString {
    const s = new BulkString(this.chunks, this.length, this.spares);
    this.chunks = [];
    this.length = 0;
    return s;
  }

  /** The bytes so far as a JS string (the string turned out not to be bulk data after all). */
  toString(): string {
    const s = this.finish();
    const text = s.toString();
    s.release();
    return text;
  }

  /** Gives the chunks back (the string was cut, or its message failed). */
  release(): void {
    this.finish().release();
  }

  /** The chunk to write to and where in it, a new one when the last is full. */
  private room(): [Buffer, number] {
    const at = this.length % BULK_CHUNK_BYTES;
    if (at === 0 && this.length === this.chunks.length * BULK_CHUNK_BYTES) {
      const c = this.spares ? this.spares.take(BULK_CHUNK_BYTES) : Buffer.allocUnsafeSlow(BULK_CHUNK_BYTES);
      this.chunks.push(c);
      return [c, 0];
    }
    return [this.chunks[this.chunks.length - 1] as Buffer, at];
  }
}

/** Whether text[from, to) is ASCII without a backslash (nothing to unescape): its bytes are its characters. */
export function isPlainAscii(text: Uint8Array, from: number, to: number): boolean {
  for (let i = from; i < to; i++) {
    const c = text[i] as number;
    if (c === 0x5c || c >= 0x80) return false;
  }
  return true;
}

/** Whether every character of s is Latin-1 (fits one byte). */
export function isLatin1(s: string): boolean {
  for (let i = 0; i < s.length; i++) if (s.charCodeAt(i) > 0xff) return false;
  return true;
}
