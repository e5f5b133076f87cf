// XDR (RFC 4506) primitives for nicinfo.x: big-endian 4-byte units, padded opaque/string, optional
// as a 0/1 word. Only what the NIC info message needs.
import { VmwareError } from './errors.js';

export class XdrWriter {
  private chunks: Buffer[] = [];

  u32(v: number): this {
    const b = Buffer.alloc(4);
    b.writeUInt32BE(v >>> 0);
    this.chunks.push(b);
    return this;
  }

  i32(v: number): this {
    const b = Buffer.alloc(4);
    b.writeInt32BE(v | 0);
    this.chunks.push(b);
    return this;
  }

  bool(v: boolean): this {
    return this.u32(v ? 1 : 0);
  }

  /** Variable-length opaque with a bound: length word, bytes, zero padding to 4. */
  opaque(data: Buffer, max: number, what: string): this {
    if (data.length > max) throw new VmwareError('XDR_LIMIT', `${what} is ${data.length} bytes; nicinfo.x allows ${max}`);
    this.u32(data.length);
    this.chunks.push(data);
    const pad = (4 - (data.length % 4)) % 4;
    if (pad) this.chunks.push(Buffer.alloc(pad));
    return this;
  }

  string(s: string, max: number, what: string): this {
    return this.opaque(Buffer.from(s, 'utf8'), max, what);
  }

  /** `T *x`: a 0/1 word, then the value when present. */
  optional<T>(v: T | undefined, write: (v: T) => void): this {
    this.bool(v !== undefined);
    if (v !== undefined) write(v);
    return this;
  }

  array<T>(items: readonly T[], max: number, what: string, write: (v: T) => void): this {
    if (items.length > max) throw new VmwareError('XDR_LIMIT', `${items.length} ${what}; nicinfo.x allows ${max}`);
    this.u32(items.length);
    for (const i of items) write(i);
    return this;
  }

  bytes(): Buffer {
    return Buffer.concat(this.chunks);
  }
}

export class XdrReader {
  private off = 0;

  constructor(private readonly buf: Buffer) {}

  private need(n: number, what: string): void {
    if (this.off + n > this.buf.length)
      throw new VmwareError('XDR_DECODE', `NIC info ends inside ${what} (offset ${this.off}, ${this.buf.length} bytes)`);
  }

  u32(what = 'a number'): number {
    this.need(4, what);
    const v = this.buf.readUInt32BE(this.off);
    this.off += 4;
    return v;
  }

  i32(what = 'a number'): number {
    this.need(4, what);
    const v = this.buf.readInt32BE(this.off);
    this.off += 4;
    return v;
  }

  bool(what: string): boolean {
    const v = this.u32(what);
    if (v > 1) throw new VmwareError('XDR_DECODE', `${what}: ${v} is not an XDR bool`);
    return v === 1;
  }

  opaque(max: number, what: string): Buffer {
    const n = this.u32(what);
    if (n > max) throw new VmwareError('XDR_DECODE', `${what} claims ${n} bytes; nicinfo.x allows ${max}`);
    const padded = n + ((4 - (n % 4)) % 4);
    this.need(padded, what);
    const out = Buffer.from(this.buf.subarray(this.off, this.off + n));
    this.off += padded;
    return out;
  }

  string(max: number, what: string): string {
    return this.opaque(max, what).toString('utf8');
  }

  optional<T>(what: string, read: () => T): T | undefined {
    return this.bool(`presence of ${what}`) ? read() : undefined;
  }

  array<T>(max: number, what: string, read: () => T): T[] {
    const n = this.u32(what);
    if (n > max) throw new VmwareError('XDR_DECODE', `${n} ${what}; nicinfo.x allows ${max}`);
    const out: T[] = [];
    for (let i = 0; i < n; i++) out.push(read());
    return out;
  }

  /** Throws unless every byte was used: trailing bytes mean the layout was misread. */
  end(): void {
    if (this.off !== this.buf.length) throw new VmwareError('XDR_DECODE', `${this.buf.length - this.off} bytes left after the NIC info`);
  }
}
