// The protobuf wire format, just what the Talos messages need: varints, 64-bit doubles and
// length-delimited fields. Hand-built instead of protobufjs/.proto files so the agent carries no
// descriptor to load at run time (it is bundled into one executable) and no codec generator.

enum WireType {
  Varint = 0,
  Fixed64 = 1,
  Len = 2,
  Fixed32 = 5,
}

/** Appends fields in the order written; proto3 leaves default values out, and so do we. */
export class ProtoWriter {
  private readonly parts: Buffer[] = [];

  private tag(field: number, wire: WireType): void {
    this.varint(BigInt((field << 3) | wire));
  }

  private varint(value: bigint): void {
    const bytes: number[] = [];
    let v = BigInt.asUintN(64, value);
    do {
      let b = Number(v & 0x7fn);
      v >>= 7n;
      if (v !== 0n) b |= 0x80;
      bytes.push(b);
    } while (v !== 0n);
    this.parts.push(Buffer.from(bytes));
  }

  uint(field: number, value: number | bigint): this {
    if (value === 0 || value === 0n) return this;
    this.tag(field, WireType.Varint);
    this.varint(BigInt(value));
    return this;
  }

  bool(field: number, value: boolean): this {
    return value ? this.uint(field, 1) : this;
  }

  double(field: number, value: number): this {
    if (value === 0) return this;
    this.tag(field, WireType.Fixed64);
    const b = Buffer.alloc(8);
    b.writeDoubleLE(value);
    this.parts.push(b);
    return this;
  }

  bytes(field: number, value: Uint8Array): this {
    this.tag(field, WireType.Len);
    this.varint(BigInt(value.length));
    this.parts.push(Buffer.from(value));
    return this;
  }

  string(field: number, value: string): this {
    return value === '' ? this : this.bytes(field, Buffer.from(value, 'utf8'));
  }

  message(field: number, inner: ProtoWriter): this {
    return this.bytes(field, inner.finish());
  }

  finish(): Buffer {
    return Buffer.concat(this.parts);
  }
}

export class ProtoDecodeError extends Error {
  readonly code = 'TALOS_PROTO';
}

/** One field as read: the number, and the raw value by wire type. */
export interface ProtoField {
  field: number;
  varint?: bigint;
  fixed64?: Buffer;
  bytes?: Buffer;
}

/** Reads every field of one message; unknown fields are skipped by wire type, as protobuf requires. */
export function readFields(buf: Uint8Array): ProtoField[] {
  const b = Buffer.from(buf.buffer, buf.byteOffset, buf.byteLength);
  const out: ProtoField[] = [];
  let pos = 0;
  const varint = (): bigint => {
    let result = 0n;
    let shift = 0n;
    for (;;) {
      if (pos >= b.length) throw new ProtoDecodeError('truncated varint');
      const byte = b[pos++] as number;
      result |= BigInt(byte & 0x7f) << shift;
      if ((byte & 0x80) === 0) return result;
      shift += 7n;
      if (shift > 63n) throw new ProtoDecodeError('varint longer than 10 bytes');
    }
  };
  const take = (n: number): Buffer => {
    if (pos + n > b.length) throw new ProtoDecodeError('truncated field');
    const s = b.subarray(pos, pos + n);
    pos += n;
    return s;
  };
  while (pos < b.length) {
    const key = varint();
    const field = Number(key >> 3n);
    const wire = Number(key & 7n);
    if (field === 0) throw new ProtoDecodeError('field number 0');
    switch (wire) {
      case WireType.Varint:
        out.push({ field, varint: varint() });
        break;
      case WireType.Fixed64:
        out.push({ field, fixed64: take(8) });
        break;
      case WireType.Len:
        out.push({ field, bytes: take(Number(varint())) });
        break;
      case WireType.Fixed32:
        take(4);
        break;
      default:
        throw new ProtoDecodeError(`unsupported wire type ${wire}`);
    }
  }
  return out;
}

/** Typed accessors over the fields of one message; the last occurrence wins, as in protobuf. */
export class ProtoMessage {
  private constructor(private readonly fields: ProtoField[]) {}

  static decode(buf: Uint8Array): ProtoMessage {
    return new ProtoMessage(readFields(buf));
  }

  private last(field: number): ProtoField | undefined {
    for (let i = this.fields.length - 1; i >= 0; i--) if (this.fields[i]?.field === field) return this.fields[i];
    return undefined;
  }

  string(field: number): string {
    return this.last(field)?.bytes?.toString('utf8') ?? '';
  }

  bytes(field: number): Buffer | undefined {
    return this.last(field)?.bytes;
  }

  uint64(field: number): bigint {
    return BigInt.asUintN(64, this.last(field)?.varint ?? 0n);
  }

  bool(field: number): boolean {
    return (this.last(field)?.varint ?? 0n) !== 0n;
  }

  double(field: number): number {
    return this.last(field)?.fixed64?.readDoubleLE(0) ?? 0;
  }

  message(field: number): ProtoMessage | undefined {
    const b = this.last(field)?.bytes;
    return b === undefined ? undefined : ProtoMessage.decode(b);
  }

  /** Every occurrence of a repeated message field, in order. */
  messages(field: number): ProtoMessage[] {
    return this.fields.filter((f) => f.field === field && f.bytes !== undefined).map((f) => ProtoMessage.decode(f.bytes as Buffer));
  }
}
