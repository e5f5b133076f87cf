// The VMware backdoor message channel, low-bandwidth only (open-vm-tools lib/message/message.c): every
// call is one `in` on port 0x5658 through the native addon, 4 bytes of payload per call. The
// high-bandwidth `rep insb/outsb` port is left out: guest RPC messages are small (NIC info ~1 KiB), a
// 64 KiB message is ~16k calls, and one code path is one to get right. Calls are synchronous (a VM exit
// each); the async methods only match the channel shape.
import { MAX_MESSAGE_BYTES, VmwareTransportError } from './errors.js';

/** The addon's backdoorCall: (bx, cx, dxHigh, si, di) -> [eax, ebx, ecx, edx, esi, edi]. */
export type BackdoorCall = (bx: number, cx: number, dxHigh: number, si: number, di: number) => number[];

export const BDOOR_MAGIC = 0x564d5868;
export const BDOOR_CMD = { getVersion: 10, message: 30 } as const;
/** Message subcommands, in CX's high half. */
export const MESSAGE_TYPE = { open: 0, sendSize: 1, sendPayload: 2, recvSize: 3, recvPayload: 4, recvStatus: 5, close: 6 } as const;
/** Status bits, in CX's high half of the answer. */
export const MESSAGE_STATUS = {
  success: 0x01,
  doRecv: 0x02,
  closed: 0x04,
  unsent: 0x08,
  checkpoint: 0x10,
  poweroff: 0x20,
  timeout: 0x40,
  highBandwidth: 0x80,
} as const;
/** EBX flag on OPEN asking for a cookie, so another process cannot use our channel id. */
const OPEN_WITH_COOKIE = 0x80000000;
/** A checkpoint (snapshot, vMotion) interrupts a transfer; message.c starts it over. */
const CHECKPOINT_RETRIES = 4;

const high = (v: number | undefined) => ((v ?? 0) >>> 16) & 0xffff;

export interface BackdoorVersion {
  /** EAX: the backdoor version; 0xffffffff when nothing answered. */
  version: number;
  /** EBX echoes the magic when a VMware backdoor (or QEMU's vmport) answered. */
  magicEchoed: boolean;
  /** ECX: the product type (VMX 2 = ...). */
  product: number;
}

/** BDOOR_CMD_GETVERSION: the simplest call, for detection tests (QEMU's vmport answers it too). */
export function backdoorGetVersion(call: BackdoorCall): BackdoorVersion {
  const [ax, bx, cx] = call(~BDOOR_MAGIC >>> 0, BDOOR_CMD.getVersion, 0, 0, 0);
  return { version: (ax ?? 0) >>> 0, magicEchoed: (bx ?? 0) >>> 0 === BDOOR_MAGIC, product: (cx ?? 0) >>> 0 };
}

export class BackdoorChannel {
  private id = -1;
  private cookieHigh = 0;
  private cookieLow = 0;

  /** proto: 0x4f4c4354 ('TCLO') or 0x49435052 ('RPCI'). */
  constructor(
    private readonly call: BackdoorCall,
    private readonly proto: number,
  ) {}

  private msg(type: number, bx: number): { status: number; bx: number; dxHigh: number } {
    const out = this.call(bx >>> 0, ((type << 16) | BDOOR_CMD.message) >>> 0, this.id, this.cookieHigh, this.cookieLow);
    return { status: high(out[2]), bx: (out[1] ?? 0) >>> 0, dxHigh: high(out[3]) };
  }

  async start(): Promise<void> {
    if (this.id >= 0) return;
    for (const flags of [OPEN_WITH_COOKIE, 0]) {
      const out = this.call((this.proto | flags) >>> 0, ((MESSAGE_TYPE.open << 16) | BDOOR_CMD.message) >>> 0, 0, 0, 0);
      if (high(out[2]) & MESSAGE_STATUS.success) {
        this.id = high(out[3]);
        this.cookieHigh = (out[4] ?? 0) >>> 0;
        this.cookieLow = (out[5] ?? 0) >>> 0;
        return;
      }
    }
    throw new VmwareTransportError(
      'BACKDOOR_STATUS',
      `the VMX refused to open a guest RPC channel (protocol 0x${this.proto.toString(16)})`,
    );
  }

  async stop(): Promise<void> {
    if (this.id < 0) return;
    try {
      this.msg(MESSAGE_TYPE.close, 0);
    } finally {
      this.id = -1;
    }
  }

  private open(): void {
    if (this.id < 0) throw new VmwareTransportError('NOT_OPEN', 'the backdoor channel is not open');
  }

  async send(message: Buffer): Promise<void> {
    this.open();
    if (message.length > MAX_MESSAGE_BYTES)
      throw new VmwareTransportError('TOO_LONG', `a ${message.length}-byte message is over the VMX's ${MAX_MESSAGE_BYTES}`);
    for (let attempt = 0; attempt < CHECKPOINT_RETRIES; attempt++) {
      if (this.trySend(message)) return;
    }
    throw new VmwareTransportError('BACKDOOR_STATUS', 'a checkpoint interrupted the send every time');
  }

  /** False when a checkpoint interrupted it (start over); throws on any other failure. */
  private trySend(message: Buffer): boolean {
    const size = this.msg(MESSAGE_TYPE.sendSize, message.length);
    if (!(size.status & MESSAGE_STATUS.success)) {
      if (size.status & MESSAGE_STATUS.checkpoint) return false;
      throw new VmwareTransportError('BACKDOOR_STATUS', `SENDSIZE failed (status 0x${size.status.toString(16)})`);
    }
    for (let off = 0; off < message.length; off += 4) {
      // Bytes in memory order, zero-padded: what message.c's memcpy into the 32-bit register gives.
      const word = Buffer.alloc(4);
      message.copy(word, 0, off, Math.min(off + 4, message.length));
      const r = this.msg(MESSAGE_TYPE.sendPayload, word.readUInt32LE(0));
      if (!(r.status & MESSAGE_STATUS.success)) {
        if (r.status & MESSAGE_STATUS.checkpoint) return false;
        throw new VmwareTransportError('BACKDOOR_STATUS', `SENDPAYLOAD failed at byte ${off} (status 0x${r.status.toString(16)})`);
      }
    }
    return true;
  }

  async receive(): Promise<Buffer> {
    this.open();
    for (let attempt = 0; attempt < CHECKPOINT_RETRIES; attempt++) {
      const got = this.tryReceive();
      if (got) return got;
    }
    throw new VmwareTransportError('BACKDOOR_STATUS', 'a checkpoint interrupted the receive every time');
  }

  private tryReceive(): Buffer | undefined {
    const size = this.msg(MESSAGE_TYPE.recvSize, 0);
    if (!(size.status & MESSAGE_STATUS.success))
      throw new VmwareTransportError('BACKDOOR_STATUS', `RECVSIZE failed (status 0x${size.status.toString(16)})`);
    if (!(size.status & MESSAGE_STATUS.doRecv)) return Buffer.alloc(0);
    if (size.dxHigh !== MESSAGE_TYPE.sendSize)
      throw new VmwareTransportError('BACKDOOR_PROTOCOL', `expected SENDSIZE from the VMX, got message type ${size.dxHigh}`);
    const length = size.bx;
    if (length > MAX_MESSAGE_BYTES) {
      this.msg(MESSAGE_TYPE.recvStatus, 0);
      throw new VmwareTransportError('TOO_LONG', `the VMX announced ${length} bytes, over ${MAX_MESSAGE_BYTES}`);
    }
    const out = Buffer.alloc(length);
    for (let off = 0; off < length; off += 4) {
      const r = this.msg(MESSAGE_TYPE.recvPayload, MESSAGE_STATUS.success);
      if (!(r.status & MESSAGE_STATUS.success)) {
        if (r.status & MESSAGE_STATUS.checkpoint) return undefined;
        this.msg(MESSAGE_TYPE.recvStatus, 0);
        throw new VmwareTransportError('BACKDOOR_STATUS', `RECVPAYLOAD failed at byte ${off} (status 0x${r.status.toString(16)})`);
      }
      if (r.dxHigh !== MESSAGE_TYPE.sendPayload) {
        this.msg(MESSAGE_TYPE.recvStatus, 0);
        throw new VmwareTransportError('BACKDOOR_PROTOCOL', `expected SENDPAYLOAD from the VMX, got message type ${r.dxHigh}`);
      }
      const word = Buffer.alloc(4);
      word.writeUInt32LE(r.bx);
      word.copy(out, off, 0, Math.min(4, length - off));
    }
    this.msg(MESSAGE_TYPE.recvStatus, MESSAGE_STATUS.success);
    return out;
  }
}
