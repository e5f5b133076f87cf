// The framing of guest RPC over vsock (open-vm-tools lib/dataMap, rpcin.c, rpcout.c): each packet is a
// u32 big-endian length, then DataMap entries {i32 type, i32 field id, value}; INT64 values are two
// big-endian u32 with the LOW word first (dataMap.c EncodeInt64), strings a length and the bytes.
import { VmwareTransportError } from './errors.js';

export const DM_TYPE = { int64: 1, string: 2, int64List: 3, stringList: 4 } as const;
export const GUESTRPC_FIELD = { type: 1, payload: 2, fastClose: 3 } as const;
export const GUESTRPC_TYPE = { data: 1, ping: 2 } as const;
/** The largest packet accepted: a 64 KiB message plus the DataMap overhead, with room to spare. */
export const MAX_PACKET_BYTES = 128 * 1024;

export interface GuestRpcPacket {
  type: number;
  payload?: Buffer;
  fastClose?: boolean;
}

function int64Entry(field: number, value: number): Buffer {
  const b = Buffer.alloc(16);
  b.writeInt32BE(DM_TYPE.int64, 0);
  b.writeInt32BE(field, 4);
  b.writeUInt32BE(value >>> 0, 8); // low word first
  b.writeUInt32BE(Math.floor(value / 2 ** 32) >>> 0, 12);
  return b;
}

function stringEntry(field: number, value: Buffer): Buffer {
  const head = Buffer.alloc(12);
  head.writeInt32BE(DM_TYPE.string, 0);
  head.writeInt32BE(field, 4);
  head.writeInt32BE(value.length, 8);
  return Buffer.concat([head, value]);
}

/** One packet on the wire: type, then the payload if any, then FAST_CLOSE if asked. */
export function encodePacket(p: GuestRpcPacket): Buffer {
  const entries = [int64Entry(GUESTRPC_FIELD.type, p.type)];
  if (p.payload && p.payload.length > 0) entries.push(stringEntry(GUESTRPC_FIELD.payload, p.payload));
  if (p.fastClose) entries.push(int64Entry(GUESTRPC_FIELD.fastClose, 1));
  const body = Buffer.concat(entries);
  const len = Buffer.alloc(4);
  len.writeUInt32BE(body.length);
  return Buffer.concat([len, body]);
}

/** Decodes the entries of one packet body (without its length word). Unknown fields are skipped. */
export function decodePacketBody(body: Buffer): GuestRpcPacket {
  const p: GuestRpcPacket = { type: 0 };
  let o = 0;
  const need = (n: number, what: string) => {
    if (o + n > body.length) throw new VmwareTransportError('DATAMAP', `vsock packet ends inside ${what} (offset ${o} of ${body.length})`);
  };
  let sawType = false;
  while (o < body.length) {
    need(8, 'an entry header');
    const type = body.readInt32BE(o);
    const field = body.readInt32BE(o + 4);
    o += 8;
    if (type === DM_TYPE.int64) {
      need(8, 'an int64');
      const v = body.readUInt32BE(o) + body.readUInt32BE(o + 4) * 2 ** 32;
      o += 8;
      if (field === GUESTRPC_FIELD.type) {
        p.type = v;
        sawType = true;
      } else if (field === GUESTRPC_FIELD.fastClose) p.fastClose = v !== 0;
    } else if (type === DM_TYPE.string) {
      need(4, 'a string length');
      const n = body.readInt32BE(o);
      o += 4;
      if (n < 0) throw new VmwareTransportError('DATAMAP', `vsock packet string length ${n}`);
      need(n, 'a string');
      if (field === GUESTRPC_FIELD.payload) p.payload = Buffer.from(body.subarray(o, o + n));
      o += n;
    } else if (type === DM_TYPE.int64List) {
      need(4, 'a list length');
      const n = body.readInt32BE(o);
      o += 4;
      if (n < 0) throw new VmwareTransportError('DATAMAP', `vsock packet list length ${n}`);
      need(n * 8, 'an int64 list');
      o += n * 8;
    } else if (type === DM_TYPE.stringList) {
      need(4, 'a list length');
      const n = body.readInt32BE(o);
      o += 4;
      for (let i = 0; i < n; i++) {
        need(4, 'a string length');
        const len = body.readInt32BE(o);
        o += 4;
        if (len < 0) throw new VmwareTransportError('DATAMAP', `vsock packet string length ${len}`);
        need(len, 'a string');
        o += len;
      }
    } else {
      throw new VmwareTransportError('DATAMAP', `vsock packet entry of unknown type ${type}`);
    }
  }
  if (!sawType) throw new VmwareTransportError('DATAMAP', 'vsock packet without a type field');
  return p;
}

/** Reassembles packets from a byte stream that may split or join them anywhere. */
export class PacketReader {
  private buf: Buffer = Buffer.alloc(0);

  push(chunk: Buffer): GuestRpcPacket[] {
    this.buf = this.buf.length === 0 ? chunk : Buffer.concat([this.buf, chunk]);
    const out: GuestRpcPacket[] = [];
    while (this.buf.length >= 4) {
      const len = this.buf.readUInt32BE(0);
      if (len > MAX_PACKET_BYTES) throw new VmwareTransportError('DATAMAP', `vsock packet of ${len} bytes is over ${MAX_PACKET_BYTES}`);
      if (this.buf.length < 4 + len) break;
      out.push(decodePacketBody(this.buf.subarray(4, 4 + len)));
      this.buf = this.buf.subarray(4 + len);
    }
    return out;
  }
}
