// VIX commands relayed by the VMX (`Vix_1_Relayed_Command`), as much as GetToolsState needs: the
// packed little-endian request header (vixCommands.h, #pragma pack(1)), the property list the reply
// carries, and the `<rc> <errno> <result>\0` reply body.
import { VmwareError } from './errors.js';

export const VIX_COMMAND_MAGIC = 0xd00d0001;
export const VIX_COMMAND_GET_TOOLS_STATE = 62;
/** VIX_COMMAND_GUEST_RETURNS_BINARY in CommonFlags: the result is `#`-prefixed binary, not NUL-terminated text. */
export const VIX_GUEST_RETURNS_BINARY = 0x80;

/** VIX_E_* of vix.h that this agent returns. */
export const VIX_E = {
  ok: 0,
  fail: 1,
  unrecognizedCommandInGuest: 3025,
  invalidMessageHeader: 10000,
} as const;

/** VIX_PROPERTY_GUEST_* ids (vixOpenSource.h) that GetToolsState reports. */
export const VIX_PROPERTY = {
  toolsVersion: 4500,
  toolsApiOptions: 4501,
  osFamily: 4502,
  osVersion: 4503,
  guestName: 4505,
  toolsProductName: 4511,
  osVersionShort: 4520,
} as const;

/** Magic u32, version u16, total/header/body/credential lengths u32, flags u8; then opcode, request flags, timeout u32, cookie u64, client handle, credential type u32. */
export const VIX_REQUEST_HEADER_BYTES = 4 + 2 + 4 * 4 + 1 + 4 * 3 + 8 + 4 * 2;

export interface VixRequestHeader {
  magic: number;
  messageVersion: number;
  totalMessageLength: number;
  headerLength: number;
  bodyLength: number;
  credentialLength: number;
  commonFlags: number;
  opCode: number;
  requestFlags: number;
  timeout: number;
  cookie: bigint;
  clientHandleId: number;
  userCredentialType: number;
}

export interface VixRequest {
  /** The quoted request name the VMX puts first (a per-request id). */
  requestName: string;
  header: VixRequestHeader;
  /** What follows the header: body, then credentials. */
  rest: Buffer;
}

/** Parses `"name"\0<header>...`; throws VmwareError VIX_HEADER when the header is short. */
export function parseVixRequest(args: Buffer): VixRequest {
  let b = args;
  if (b[0] === 0x22) b = b.subarray(1);
  let requestName = '';
  const quote = b.indexOf(0x22);
  if (quote >= 0) {
    requestName = b.subarray(0, quote).toString('latin1');
    b = b.subarray(quote + 1);
  }
  if (b[0] === 0) b = b.subarray(1);
  if (b.length < VIX_REQUEST_HEADER_BYTES)
    throw new VmwareError('VIX_HEADER', `a VIX request needs a ${VIX_REQUEST_HEADER_BYTES}-byte header; got ${b.length} bytes`);
  let o = 0;
  const u32 = () => {
    const v = b.readUInt32LE(o);
    o += 4;
    return v;
  };
  const magic = u32();
  const messageVersion = b.readUInt16LE(o);
  o += 2;
  const totalMessageLength = u32();
  const headerLength = u32();
  const bodyLength = u32();
  const credentialLength = u32();
  const commonFlags = b.readUInt8(o);
  o += 1;
  const opCode = u32();
  const requestFlags = u32();
  const timeout = u32();
  const cookie = b.readBigUInt64LE(o);
  o += 8;
  const clientHandleId = u32();
  const userCredentialType = u32();
  return {
    requestName,
    header: {
      magic,
      messageVersion,
      totalMessageLength,
      headerLength,
      bodyLength,
      credentialLength,
      commonFlags,
      opCode,
      requestFlags,
      timeout,
      cookie,
      clientHandleId,
      userCredentialType,
    },
    rest: b.subarray(o),
  };
}

/** The inverse of parseVixRequest, for the VMX double and tests. */
export function encodeVixRequest(requestName: string, h: Partial<VixRequestHeader> & { opCode: number }): Buffer {
  const b = Buffer.alloc(VIX_REQUEST_HEADER_BYTES);
  let o = 0;
  const u32 = (v: number) => {
    b.writeUInt32LE(v >>> 0, o);
    o += 4;
  };
  u32(h.magic ?? VIX_COMMAND_MAGIC);
  b.writeUInt16LE(h.messageVersion ?? 5, o);
  o += 2;
  u32(h.totalMessageLength ?? VIX_REQUEST_HEADER_BYTES);
  u32(h.headerLength ?? VIX_REQUEST_HEADER_BYTES);
  u32(h.bodyLength ?? 0);
  u32(h.credentialLength ?? 0);
  b.writeUInt8(h.commonFlags ?? 0, o);
  o += 1;
  u32(h.opCode);
  u32(h.requestFlags ?? 0);
  u32(h.timeout ?? 0);
  b.writeBigUInt64LE(h.cookie ?? 0n, o);
  o += 8;
  u32(h.clientHandleId ?? 0);
  u32(h.userCredentialType ?? 0);
  return Buffer.concat([Buffer.from(`"${requestName}"\0`, 'latin1'), b]);
}

/** VIX property types: INT32 1, STRING 2, BOOL 3, INT64 5, BLOB 6. */
export type VixProperty =
  | { id: number; type: 'int32'; value: number }
  | { id: number; type: 'string'; value: string }
  | { id: number; type: 'bool'; value: boolean }
  | { id: number; type: 'int64'; value: bigint };

const TYPE_CODE = { int32: 1, string: 2, bool: 3, int64: 5 } as const;

/** Serialises a property list: per property id, type, length (i32 LE), then the value (strings NUL-terminated). */
export function encodeVixProperties(props: readonly VixProperty[]): Buffer {
  const parts: Buffer[] = [];
  for (const p of props) {
    let value: Buffer;
    switch (p.type) {
      case 'int32':
        value = Buffer.alloc(4);
        value.writeInt32LE(p.value);
        break;
      case 'string':
        value = Buffer.concat([Buffer.from(p.value, 'utf8'), Buffer.alloc(1)]);
        break;
      case 'bool':
        value = Buffer.from([p.value ? 1 : 0]);
        break;
      case 'int64':
        value = Buffer.alloc(8);
        value.writeBigInt64LE(p.value);
        break;
    }
    const head = Buffer.alloc(12);
    head.writeInt32LE(p.id, 0);
    head.writeInt32LE(TYPE_CODE[p.type], 4);
    head.writeInt32LE(value.length, 8);
    parts.push(head, value);
  }
  return Buffer.concat(parts);
}

/** Parses a property list (for tests and the VMX double). */
export function decodeVixProperties(buf: Buffer): VixProperty[] {
  const out: VixProperty[] = [];
  let o = 0;
  while (o < buf.length) {
    if (o + 12 > buf.length) throw new VmwareError('VIX_HEADER', 'a VIX property header is cut short');
    const id = buf.readInt32LE(o);
    const type = buf.readInt32LE(o + 4);
    const len = buf.readInt32LE(o + 8);
    o += 12;
    if (len < 0 || o + len > buf.length) throw new VmwareError('VIX_HEADER', `VIX property ${id} claims ${len} bytes`);
    const v = buf.subarray(o, o + len);
    o += len;
    if (type === 1) out.push({ id, type: 'int32', value: v.readInt32LE(0) });
    else if (type === 2) out.push({ id, type: 'string', value: v.subarray(0, v.indexOf(0) < 0 ? len : v.indexOf(0)).toString('utf8') });
    else if (type === 3) out.push({ id, type: 'bool', value: v[0] === 1 });
    else if (type === 5) out.push({ id, type: 'int64', value: v.readBigInt64LE(0) });
    else throw new VmwareError('VIX_HEADER', `VIX property ${id} has unknown type ${type}`);
  }
  return out;
}

/**
 * The body of a VIX reply (the TCLO `OK ` goes before it): `<rc> <errno> <result>`, NUL-terminated
 * text, or `#` then binary when the request asked for binary (ToolsDaemonTcloReceiveVixCommand).
 */
export function vixReply(
  header: Pick<VixRequestHeader, 'commonFlags'> | undefined,
  rc: number,
  errno: number,
  result: Buffer | string = '',
): Buffer {
  const binary = ((header?.commonFlags ?? 0) & VIX_GUEST_RETURNS_BINARY) !== 0;
  const body = typeof result === 'string' ? Buffer.from(result, 'utf8') : result;
  return Buffer.concat([Buffer.from(`${rc} ${errno} ${binary ? '#' : ''}`, 'latin1'), body, binary ? Buffer.alloc(0) : Buffer.alloc(1)]);
}
