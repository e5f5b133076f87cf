// Guest RPC over vsock (what open-vm-tools prefers on Linux): the host is CID 0, TCLO listens on port
// 975 and RPCI on 976. On TCLO the host pushes commands and the guest answers each with a DATA packet,
// then sends a PING every second so the VMX knows it is alive (rpcin.c's heartbeat, started after the
// first reply). RPCI is request/reply. The socket comes from the native addon (Node's net has no
// AF_VSOCK) and is non-blocking: reads are attempted when the front end asks, never parked in the
// thread pool, so closing never waits on a stuck read.
import fs from 'node:fs';
import { MAX_MESSAGE_BYTES, VmwareTransportError } from './errors.js';
import { encodePacket, GUESTRPC_TYPE, type GuestRpcPacket, PacketReader } from './vsock-datamap.js';

export const VSOCK_HOST_CID = 0;
export const VSOCK_TCLO_PORT = 975;
export const VSOCK_RPCI_PORT = 976;

/** A connected byte stream: non-blocking read (undefined: nothing yet; throws at EOF), ordered writes. */
export interface ByteStream {
  read(): Buffer | undefined;
  write(data: Buffer): Promise<void>;
  close(): void;
}

/** The addon's vsockConnect: a connected non-blocking fd. */
export type VsockConnect = (cid: number, port: number, reserved: boolean) => number;

/** A ByteStream over a non-blocking socket fd. */
export class FdStream implements ByteStream {
  private readonly scratch = Buffer.alloc(64 * 1024);
  private closed = false;

  constructor(private readonly fd: number) {}

  read(): Buffer | undefined {
    if (this.closed) throw new VmwareTransportError('CLOSED', 'vsock stream closed');
    try {
      const n = fs.readSync(this.fd, this.scratch, 0, this.scratch.length, null);
      if (n === 0) throw new VmwareTransportError('CLOSED', 'the VMX closed the vsock connection');
      return Buffer.from(this.scratch.subarray(0, n));
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'EAGAIN') return undefined;
      throw err;
    }
  }

  async write(data: Buffer): Promise<void> {
    let off = 0;
    let wait = 1;
    while (off < data.length) {
      if (this.closed) throw new VmwareTransportError('CLOSED', 'vsock stream closed');
      try {
        off += fs.writeSync(this.fd, data, off, data.length - off);
        wait = 1;
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'EAGAIN') throw err;
        await new Promise((r) => setTimeout(r, wait));
        wait = Math.min(wait * 2, 50);
      }
    }
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    try {
      fs.closeSync(this.fd);
    } catch {}
  }
}

export interface VsockChannelOptions {
  /** 'tclo': host pushes commands, guest pings; 'rpci': request/reply. */
  kind: 'tclo' | 'rpci';
  /** Heartbeat interval on TCLO. Default 1000 ms (RPCIN_HEARTBEAT_INTERVAL). */
  pingMs?: number;
  /** How long an RPCI waits for its reply. Default 10 s. */
  replyTimeoutMs?: number;
}

/** Channel shape (start/stop/send/receive) over DataMap-framed packets on a ByteStream. */
export class VsockChannel {
  private stream: ByteStream | undefined;
  private reader = new PacketReader();
  private inbox: Buffer[] = [];
  private ping: NodeJS.Timeout | undefined;
  /** Packets sent, by type, for diagnostics and tests. */
  readonly sent = { data: 0, ping: 0 };

  constructor(
    private readonly open: () => ByteStream | Promise<ByteStream>,
    private readonly opts: VsockChannelOptions,
  ) {}

  async start(): Promise<void> {
    if (this.stream) return;
    this.stream = await this.open();
    this.reader = new PacketReader();
    this.inbox = [];
  }

  async stop(): Promise<void> {
    clearInterval(this.ping);
    this.ping = undefined;
    this.stream?.close();
    this.stream = undefined;
  }

  private live(): ByteStream {
    if (!this.stream) throw new VmwareTransportError('NOT_OPEN', 'the vsock channel is not open');
    return this.stream;
  }

  private async write(p: GuestRpcPacket): Promise<void> {
    await this.live().write(encodePacket(p));
  }

  /** Moves whatever the socket has into the inbox (DATA payloads; PINGs and empty packets are dropped). */
  private pull(): void {
    const s = this.live();
    for (;;) {
      const chunk = s.read();
      if (!chunk) return;
      for (const p of this.reader.push(chunk)) if (p.type === GUESTRPC_TYPE.data) this.inbox.push(p.payload ?? Buffer.alloc(0));
    }
  }

  async send(message: Buffer): Promise<void> {
    if (message.length > MAX_MESSAGE_BYTES)
      throw new VmwareTransportError('TOO_LONG', `a ${message.length}-byte message is over the VMX's ${MAX_MESSAGE_BYTES}`);
    // On TCLO an empty message means "no reply to give": over vsock there is nothing to send.
    if (this.opts.kind === 'tclo' && message.length === 0) {
      this.live();
      return;
    }
    await this.write({ type: GUESTRPC_TYPE.data, payload: message });
    this.sent.data++;
    if (this.opts.kind === 'tclo' && !this.ping) {
      this.ping = setInterval(() => {
        this.write({ type: GUESTRPC_TYPE.ping }).then(
          () => this.sent.ping++,
          () => clearInterval(this.ping),
        );
      }, this.opts.pingMs ?? 1000);
      this.ping.unref();
    }
  }

  async receive(): Promise<Buffer> {
    this.pull();
    if (this.opts.kind === 'tclo') return this.inbox.shift() ?? Buffer.alloc(0);
    const deadline = Date.now() + (this.opts.replyTimeoutMs ?? 10_000);
    let wait = 1;
    while (this.inbox.length === 0) {
      if (Date.now() >= deadline) throw new VmwareTransportError('TIMEOUT', 'the VMX did not answer the RPCI over vsock');
      await new Promise((r) => setTimeout(r, wait));
      wait = Math.min(wait * 2, 20);
      this.pull();
    }
    return this.inbox.shift() ?? Buffer.alloc(0);
  }
}

/** The two vsock channels to the VMX through the addon's vsockConnect. */
export function vsockChannels(connect: VsockConnect, opts: { pingMs?: number } = {}): { tclo: VsockChannel; rpci: VsockChannel } {
  return {
    // Both from a privileged source port when the agent may bind one, as vmtoolsd does for RPCI (the VMX
    // may refuse some requests from unprivileged ports); without the capability, any port.
    tclo: new VsockChannel(() => new FdStream(connect(VSOCK_HOST_CID, VSOCK_TCLO_PORT, true)), { kind: 'tclo', ...opts }),
    rpci: new VsockChannel(() => new FdStream(connect(VSOCK_HOST_CID, VSOCK_RPCI_PORT, true)), { kind: 'rpci' }),
  };
}
