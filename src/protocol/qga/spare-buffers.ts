// Large buffers handed back after use and handed out again, instead of being left to the garbage collector.
//
// Why: bulk data (a 21 MiB base64 request, a 4 MiB file read and its 5.6 MiB reply) lives in Buffers, whose
// memory V8 frees only when a collection finds them dead. The agent allocates almost nothing else on the
// JS heap while it moves bulk data, so collections are rare: V8 waits until ~64 MiB of dead buffers pile
// up (its external-memory trigger). Measured before this file: 64 MiB of 4 MiB guest-file-reads peaked at
// 97-105 MB (idle 48), and 30 refused 16 MiB guest-exec requests at 307-333 MB. A buffer handed back is
// reused at once, so the agent's resident memory is what is in use, not what is in use plus what awaits
// a collection.
//
// A spare is only ever handed out again once its user gave it back: a user that never does (an error
// path) just leaves it to the collector. The spares kept are capped (`maxKeptBytes`): they stay resident
// while the agent idles.

/** A free list of buffers of any size (at least `minBytes`), at most `maxKeptBytes` of them kept. */
export class SpareBuffers {
  /** Buffers handed out and not given back (their ArrayBuffer: give() takes any view of one). */
  private readonly out = new WeakSet<ArrayBufferLike>();
  private readonly kept: Buffer[] = [];
  private keptBytes = 0;

  constructor(
    /** Spares kept at most, in bytes. */
    readonly maxKeptBytes: number,
    /** Smaller requests are not served from here (a plain allocation is cheap and short-lived). */
    readonly minBytes = 64 << 10,
  ) {}

  /**
   * `n` bytes, uninitialised: the smallest kept spare that holds them, else a new buffer (of `n`, or of
   * `atLeast` when given, so that later requests of a similar size fit it too). Hand it back with give().
   */
  take(n: number, atLeast = n): Buffer {
    if (Math.max(n, atLeast) < this.minBytes) return Buffer.allocUnsafe(n);
    let best = -1;
    for (let i = 0; i < this.kept.length; i++) {
      const len = (this.kept[i] as Buffer).length;
      if (len >= n && (best < 0 || len < (this.kept[best] as Buffer).length)) best = i;
    }
    let buf: Buffer;
    if (best >= 0) {
      buf = this.kept[best] as Buffer;
      this.kept.splice(best, 1);
      this.keptBytes -= buf.length;
    } else buf = Buffer.allocUnsafeSlow(Math.max(n, atLeast));
    this.out.add(buf.buffer);
    return n === buf.length ? buf : buf.subarray(0, n);
  }

  /**
   * The caller is done with `buf` (any view of a buffer take() handed out; anything else is ignored): kept
   * for the next take() if it fits the cap, else left to the collector. The caller must not touch it again.
   */
  give(buf: Uint8Array): void {
    const ab = buf.buffer;
    if (!this.out.has(ab)) return;
    this.out.delete(ab);
    const whole = Buffer.from(ab, 0, ab.byteLength);
    // Too small to pool, or too big to keep at all (then it must not push smaller spares out either).
    if (whole.length < this.minBytes || whole.length > this.maxKeptBytes) return;
    // Full: the smallest spares make room for a bigger one (a big spare serves small requests too).
    this.kept.sort((a, b) => a.length - b.length);
    while (this.keptBytes + whole.length > this.maxKeptBytes && this.kept.length > 0 && (this.kept[0] as Buffer).length < whole.length) {
      this.keptBytes -= (this.kept.shift() as Buffer).length;
    }
    if (this.keptBytes + whole.length > this.maxKeptBytes) return;
    this.kept.push(whole);
    this.keptBytes += whole.length;
  }

  /** Whether `buf` is a view of a buffer handed out and not given back yet. */
  isOut(buf: Uint8Array): boolean {
    return this.out.has(buf.buffer);
  }

  /** Bytes of spares kept now (what they cost while the agent idles). */
  get spareBytes(): number {
    return this.keptBytes;
  }

  /** Drops every spare (left to the collector). */
  trim(): void {
    this.kept.length = 0;
    this.keptBytes = 0;
  }
}
