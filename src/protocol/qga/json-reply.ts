// Reply buffers for bulk data: base64 written straight into the reply (no JS string of the payload), and
// large replies' buffers reused once the transport has written them.
//
// A guest-file-read of 4 MiB is read into the tail of the buffer its reply is built in, and encoded there in
// place (Base64Room): one 5.6 MiB buffer per read instead of a 4 MiB read buffer and a 5.6 MiB reply, and
// the same buffer again for the next read once the agent gives it back (releaseReply). Before, the agent
// took 97-105 MB during 64 MiB of 4 MiB reads (idle 48 MB): dead read and reply buffers waiting for the
// garbage collector (spare-buffers.ts says why it waits).
import type { JsonParts } from './json-value.js';
import { SpareBuffers } from './spare-buffers.js';

/** Bytes that are sent as a base64 JSON string, encoded straight into the reply buffer (no heap string). */
export class Base64Bytes {
  /** The bytes, in order (one piece, or the pieces a program's output came in: never joined). */
  readonly pieces: readonly Uint8Array[];
  /** Bytes in all. */
  readonly length: number;

  /** `room`: the bytes lie in a reply buffer that the reply may be built in (Base64Room). */
  constructor(
    bytes: Uint8Array | readonly Uint8Array[],
    readonly room?: Base64Room,
  ) {
    this.pieces = bytes instanceof Uint8Array ? [bytes] : bytes;
    let n = 0;
    for (const p of this.pieces) n += p.length;
    this.length = n;
  }

  /** The bytes as one piece (joined when there are several: for tests and small values). */
  get bytes(): Uint8Array {
    return this.pieces.length === 1 ? (this.pieces[0] as Uint8Array) : Buffer.concat(this.pieces, this.length);
  }

  /** Length of the base64 text, padding included. */
  get encodedLength(): number {
    return Math.ceil(this.length / 3) * 4;
  }
}

/** Replies this large or larger come from (and go back to) replyBuffers. */
const POOLED_REPLY_BYTES = 256 << 10;
/**
 * Spare reply buffers kept: one guest-exec-status reply with a full 16 MiB stream of output (21.4 MiB), or
 * a few replies to 4 MiB reads (5.6 MiB each: what `guestlink cp` and the bench read). Larger replies (up to
 * 64 MiB for a 48 MiB read) are allocated each time. Measured on test/security/exec-flood (5 x 16 MiB of
 * output collected): with 8 MiB each collection's reply was a new buffer, and the peak while collecting was
 * 20-35 MiB above the peak while the output came in; with 24 MiB, 2-3 MiB. The agent drops the spares
 * once it idles (agent/serve.ts, trimReplySpares).
 */
const REPLY_SPARE_BYTES = 24 << 20;
/** Large replies' buffers: taken by partsToBuffer, Base64Room and takeBulkBuffer, given back through releaseReply. */
const replyBuffers = new SpareBuffers(REPLY_SPARE_BYTES, POOLED_REPLY_BYTES);

/**
 * The transport has written `reply` (its write() returned undefined, or its promise resolved) and keeps no
 * reference to it: a pooled buffer is reused for a later reply. Any other buffer is ignored.
 */
export function releaseReply(reply: Uint8Array): void {
  // Small replies (pings) live in Node's shared 8 KiB slabs: nothing to look up.
  if (reply.buffer.byteLength >= POOLED_REPLY_BYTES) replyBuffers.give(reply);
}

/**
 * A buffer of `n` bytes for other bulk bytes that live as long as one request (guest-file-write's decoded
 * payload): from the same spares as replies, so the agent drops it with them when it idles. Small ones are
 * plain allocations. Give it back with releaseReply once done.
 */
export function takeBulkBuffer(n: number): Buffer {
  return replyBuffers.take(n);
}

/** Bytes of spare reply buffers kept now (the agent drops them when it idles: trimReplySpares). */
export function replySpareBytes(): number {
  return replyBuffers.spareBytes;
}

/** Drops the spare reply buffers (left to the collector): the agent has been idle for a while. */
export function trimReplySpares(): void {
  replyBuffers.trim();
}

/** Room before the payload for the reply's text that precedes it (`{"return": {"count": N, "buf-b64": "`). */
const HEAD_ROOM = 256;
/** Room after it for the text that follows (`", "eof": false}, "id": ...}`); a longer id is written elsewhere. */
const TAIL_ROOM = 4096;

/**
 * A reply buffer with room for `count` bytes sent as base64: read them into `data`, then hand `bytes(n)` on.
 * The bytes sit at the end of the base64's place, so that partsToBuffer encodes them in place: each 3 bytes
 * read become 4 written before them, and the writing never catches up with the reading (the text before the
 * payload is at most HEAD_ROOM, and the bytes start count/3 + HEAD_ROOM in).
 */
export class Base64Room {
  readonly buffer: Buffer;
  /** Where the bytes go (count of them). */
  readonly data: Buffer;

  constructor(count: number) {
    const encoded = Math.ceil(count / 3) * 4;
    this.buffer = replyBuffers.take(HEAD_ROOM + encoded + TAIL_ROOM);
    const at = HEAD_ROOM + encoded - count;
    this.data = this.buffer.subarray(at, at + count);
  }

  /** Whether a read of `count` bytes is worth a room (smaller ones are copied into a plain reply). */
  static fits(count: number): boolean {
    return count >= POOLED_REPLY_BYTES;
  }

  /** The first n bytes of data, to be sent as base64. */
  bytes(n: number): Base64Bytes {
    return new Base64Bytes(this.data.subarray(0, n), this);
  }

  /** The room is not used after all (the read failed): its buffer goes back. */
  release(): void {
    replyBuffers.give(this.buffer);
  }
}

const B64 = Buffer.from('ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/');
/** Two base64 characters for each 12-bit value, little-endian packed: half the table look-ups. */
const B64_PAIRS = new Uint16Array(4096);
for (let i = 0; i < 4096; i++) B64_PAIRS[i] = (B64[i >> 6] as number) | ((B64[i & 63] as number) << 8);

/**
 * Base64-encodes `src` into `out` at `off`; returns the end offset. Native toString('base64') would allocate a
 * heap string. `src` may lie in `out` after `off` (Base64Room): each group of 3 bytes is read before its 4
 * characters are written.
 */
export function base64EncodeInto(src: Uint8Array, out: Uint8Array, off: number): number {
  const whole = src.length - (src.length % 3);
  let o = off;
  for (let i = 0; i < whole; i += 3) {
    const v = ((src[i] as number) << 16) | ((src[i + 1] as number) << 8) | (src[i + 2] as number);
    const a = B64_PAIRS[v >> 12] as number;
    const b = B64_PAIRS[v & 4095] as number;
    out[o] = a & 255;
    out[o + 1] = a >> 8;
    out[o + 2] = b & 255;
    out[o + 3] = b >> 8;
    o += 4;
  }
  const rest = src.length - whole;
  if (rest > 0) {
    const v = ((src[whole] as number) << 16) | (rest === 2 ? (src[whole + 1] as number) << 8 : 0);
    out[o++] = B64[v >> 18] as number;
    out[o++] = B64[(v >> 12) & 63] as number;
    out[o++] = rest === 2 ? (B64[(v >> 6) & 63] as number) : 0x3d;
    out[o++] = 0x3d;
  }
  return o;
}

/** Encodes a value's pieces as one base64 text (a piece's last 1-2 bytes join the next piece's first). */
function encodePieces(b: Base64Bytes, out: Uint8Array, off: number): number {
  if (b.pieces.length === 1) return base64EncodeInto(b.pieces[0] as Uint8Array, out, off);
  const carry = new Uint8Array(3);
  let held = 0;
  for (const piece of b.pieces) {
    let from = 0;
    while (held > 0 && held < 3 && from < piece.length) carry[held++] = piece[from++] as number;
    if (held === 3) {
      off = base64EncodeInto(carry, out, off);
      held = 0;
    }
    const whole = from + Math.floor((piece.length - from) / 3) * 3;
    off = base64EncodeInto(piece.subarray(from, whole), out, off);
    for (let i = whole; i < piece.length; i++) carry[held++] = piece[i] as number;
  }
  return held > 0 ? base64EncodeInto(carry.subarray(0, held), out, off) : off;
}

/**
 * Builds one reply buffer from parts: `lead` (0xFF for delimited replies) first, base64 written in place. A
 * payload read into a Base64Room is encoded inside that room's buffer, which becomes the reply; other large
 * replies come from the spare buffers. Either way the agent gives the reply back once written (releaseReply).
 */
export function partsToBuffer(parts: JsonParts, lead?: number): Buffer {
  let len = lead === undefined ? 0 : 1;
  let room: Base64Room | undefined;
  let before = 0;
  let rooms = 0;
  for (const p of parts) {
    if (typeof p === 'string') len += Buffer.byteLength(p);
    else {
      if (p.room !== undefined && rooms++ === 0) {
        room = p.room;
        before = len;
      }
      len += p.encodedLength + 2;
    }
  }
  // In place when the text before the payload fits the room's head (it is written first, over nothing
  // the payload needs) and the whole reply fits its buffer.
  const inPlace = room !== undefined && before + 1 <= HEAD_ROOM && len <= room.buffer.length;
  const buf = inPlace ? (room as Base64Room).buffer : len >= POOLED_REPLY_BYTES ? replyBuffers.take(len) : Buffer.allocUnsafe(len);
  let off = 0;
  if (lead !== undefined) buf[off++] = lead;
  for (const p of parts) {
    if (typeof p === 'string') off += buf.write(p, off, 'utf8');
    else {
      buf[off++] = 0x22;
      off = encodePieces(p, buf, off);
      buf[off++] = 0x22;
    }
  }
  // Rooms whose bytes were copied into another buffer are free again.
  if (rooms > 0) for (const p of parts) if (typeof p !== 'string' && p.room !== undefined && p.room.buffer !== buf) p.room.release();
  return len === buf.length ? buf : buf.subarray(0, len);
}
