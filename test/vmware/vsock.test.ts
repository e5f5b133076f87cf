// vsock framing (DataMap packets, PING heartbeat) over a real connected stream socket pair: a unix
// socket stands in for AF_VSOCK (this machine has no VMX on CID 0); the bytes on the wire are the same.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { createVmwareFrontEnd } from '../../src/commands/vmware/index.js';
import { type ByteStream, VsockChannel } from '../../src/transport/vmware/vsock.js';
import {
  decodePacketBody,
  encodePacket,
  GUESTRPC_TYPE,
  type GuestRpcPacket,
  PacketReader,
} from '../../src/transport/vmware/vsock-datamap.js';
import { OS } from './fixture.js';

test('DataMap bytes: DATA with a payload, PING, FAST_CLOSE; INT64 low word first', () => {
  assert.equal(
    encodePacket({ type: GUESTRPC_TYPE.data, payload: Buffer.from('ping') }).toString('hex'),
    `00000020${'00000001'}${'00000001'}${'00000001'}${'00000000'}${'00000002'}${'00000002'}${'00000004'}70696e67`,
  );
  assert.equal(encodePacket({ type: GUESTRPC_TYPE.ping }).toString('hex'), '00000010000000010000000100000002' + '00000000');
  const fc = encodePacket({ type: 1, payload: Buffer.from('x'), fastClose: true });
  assert.deepEqual(decodePacketBody(fc.subarray(4)), { type: 1, payload: Buffer.from('x'), fastClose: true });
});

test('PacketReader reassembles packets split at every byte and joined in one chunk', () => {
  const pkts: GuestRpcPacket[] = [
    { type: 1, payload: Buffer.from('reset') },
    { type: 2 },
    { type: 1, payload: Buffer.from([0, 1, 2, 255]) },
  ];
  const wire = Buffer.concat(pkts.map(encodePacket));
  const r = new PacketReader();
  const got: GuestRpcPacket[] = [];
  for (const b of wire) got.push(...r.push(Buffer.from([b])));
  assert.deepEqual(got, pkts);
  assert.deepEqual(new PacketReader().push(wire), pkts);
});

test('malformed packets are refused with the reason', () => {
  const big = Buffer.alloc(4);
  big.writeUInt32BE(1 << 30);
  assert.throws(() => new PacketReader().push(big), { code: 'DATAMAP', message: /over/ });
  const noType = encodePacket({ type: 1, payload: Buffer.from('x') }).subarray(4 + 16);
  assert.throws(() => decodePacketBody(noType), { code: 'DATAMAP', message: /without a type/ });
  const badType = Buffer.from('0000000900000001', 'hex');
  assert.throws(() => decodePacketBody(badType), { code: 'DATAMAP', message: /unknown type 9/ });
  const shortString = Buffer.from('00000001000000010000000100000000000000020000000200000010616263', 'hex');
  assert.throws(() => decodePacketBody(shortString), { code: 'DATAMAP', message: /ends inside a string/ });
});

/** A ByteStream over a net.Socket (what FdStream does over the addon's vsock fd). */
class SocketStream implements ByteStream {
  private chunks: Buffer[] = [];
  private ended = false;
  constructor(private readonly s: net.Socket) {
    s.on('data', (c) => this.chunks.push(c));
    s.on('end', () => {
      this.ended = true;
    });
    s.on('error', () => {
      this.ended = true;
    });
  }
  read(): Buffer | undefined {
    if (this.chunks.length > 0) return Buffer.concat(this.chunks.splice(0));
    if (this.ended) throw Object.assign(new Error('the VMX closed the vsock connection'), { code: 'CLOSED' });
    return undefined;
  }
  write(d: Buffer): Promise<void> {
    return new Promise((res, rej) => this.s.write(d, (e) => (e ? rej(e) : res())));
  }
  close(): void {
    this.s.destroy();
  }
}

/** The host end: a unix server that hands each connection to the test as a packet reader/writer. */
async function socketPair(t: { after(fn: () => void): void }) {
  const dir = mkdtempSync(path.join(tmpdir(), 'gl-vmware-vsock-'));
  const file = path.join(dir, 'vmx.sock');
  const hostSide: net.Socket[] = [];
  const server = net.createServer((s) => hostSide.push(s));
  await new Promise<void>((r) => server.listen(file, r));
  t.after(() => {
    for (const s of hostSide) s.destroy();
    server.close();
    rmSync(dir, { recursive: true, force: true });
  });
  const connect = async () => {
    const c = net.connect(file);
    await new Promise((r) => c.once('connect', r));
    return new SocketStream(c);
  };
  const host = async (index: number) => {
    while (!hostSide[index]) await new Promise((r) => setTimeout(r, 2));
    const s = hostSide[index] as net.Socket;
    const reader = new PacketReader();
    const inbox: GuestRpcPacket[] = [];
    const waiters: (() => void)[] = [];
    s.on('data', (c) => {
      inbox.push(...reader.push(c));
      for (const w of waiters.splice(0)) w();
    });
    return {
      inbox,
      /** Writes a packet one byte at a time, to exercise reassembly on the guest side. */
      async sendSplit(p: GuestRpcPacket) {
        for (const b of encodePacket(p)) {
          s.write(Buffer.from([b]));
          await new Promise((r) => setImmediate(r));
        }
      },
      send(p: GuestRpcPacket) {
        s.write(encodePacket(p));
      },
      async next(pred: (p: GuestRpcPacket) => boolean = () => true, timeoutMs = 2000): Promise<GuestRpcPacket> {
        const deadline = Date.now() + timeoutMs;
        for (;;) {
          const i = inbox.findIndex(pred);
          if (i >= 0) return inbox.splice(i, 1)[0] as GuestRpcPacket;
          if (Date.now() > deadline) throw new Error(`host: no matching packet; have ${JSON.stringify(inbox)}`);
          await new Promise<void>((r) => {
            waiters.push(r);
            setTimeout(r, 20);
          });
        }
      },
      end() {
        s.end();
      },
    };
  };
  return { connect, host };
}

test('TCLO over vsock: a pushed command split byte by byte, the reply as DATA, then a PING every interval', async (t) => {
  const { connect, host } = await socketPair(t);
  // The PING interval runs on a mock clock; the sockets and every other timer are real. Packets from the
  // guest arrive in the order written, so "no PING before X" is read from the order they arrive in.
  t.mock.timers.enable({ apis: ['setInterval'] });
  const tclo = new VsockChannel(connect, { kind: 'tclo', pingMs: 40 });
  t.after(() => tclo.stop());
  await tclo.start();
  const vmx = await host(0);
  await tclo.send(Buffer.alloc(0)); // nothing to say yet: nothing on the wire
  assert.equal((await tclo.receive()).length, 0);
  await vmx.sendSplit({ type: GUESTRPC_TYPE.data, payload: Buffer.from('reset') });
  let cmd: Buffer = Buffer.alloc(0);
  for (let i = 0; i < 100 && cmd.length === 0; i++) {
    cmd = await tclo.receive();
    if (cmd.length === 0) await new Promise((r) => setTimeout(r, 5));
  }
  assert.equal(cmd.toString(), 'reset');
  t.mock.timers.tick(1000);
  await tclo.send(Buffer.from('OK ATR toolbox'));
  const reply = await vmx.next();
  assert.deepEqual(reply, { type: GUESTRPC_TYPE.data, payload: Buffer.from('OK ATR toolbox') }, 'no PING before the first reply');
  // 39 ms on: still no PING (the next DATA comes first); at 40 ms one, at 80 ms the second.
  t.mock.timers.tick(39);
  await tclo.send(Buffer.from('OK second'));
  assert.deepEqual(await vmx.next(), { type: GUESTRPC_TYPE.data, payload: Buffer.from('OK second') });
  t.mock.timers.tick(1);
  assert.deepEqual(await vmx.next(), { type: GUESTRPC_TYPE.ping });
  t.mock.timers.tick(40);
  assert.deepEqual(await vmx.next(), { type: GUESTRPC_TYPE.ping });
  assert.equal(vmx.inbox.length, 0);
  assert.equal(tclo.sent.ping, 2);
});

test('RPCI over vsock: request and reply; a silent host times out; a closed one is an error', async (t) => {
  const { connect, host } = await socketPair(t);
  const rpci = new VsockChannel(connect, { kind: 'rpci', replyTimeoutMs: 150 });
  t.after(() => rpci.stop());
  await rpci.start();
  const vmx = await host(0);
  await rpci.send(Buffer.from('tools.set.version 2147483647'));
  const req = await vmx.next();
  assert.equal(req.payload?.toString(), 'tools.set.version 2147483647');
  vmx.send({ type: GUESTRPC_TYPE.data, payload: Buffer.from('1 ') });
  assert.equal((await rpci.receive()).toString(), '1 ');
  await rpci.send(Buffer.from('log hello'));
  await assert.rejects(rpci.receive(), { code: 'TIMEOUT' });
  vmx.end();
  // Until the end reaches the guest a receive still times out; then every receive says CLOSED.
  let code: string | undefined;
  for (let i = 0; i < 100 && code !== 'CLOSED'; i++)
    code = await rpci.receive().then(
      () => 'data',
      (e: { code?: string }) => e.code,
    );
  assert.equal(code, 'CLOSED');
});

test('the whole front end over vsock framing: reset -> OK ATR toolbox, every RPCI answered by the host', async (t) => {
  const { connect, host } = await socketPair(t);
  const tclo = new VsockChannel(connect, { kind: 'tclo', pingMs: 1000 });
  const rpci = new VsockChannel(connect, { kind: 'rpci' });
  const fe = createVmwareFrontEnd(tclo, rpci, {
    system: { hostname: async () => 'node1', osInfo: async () => OS },
    network: { interfaces: async () => [] },
    uptimeSeconds: () => 1,
    version: 'test',
  });
  t.after(() => fe.stop());
  await fe.start();
  const vmxTclo = await host(0);
  const vmxRpci = await host(1);
  const seen: string[] = [];
  let answering = true;
  void (async () => {
    while (answering) {
      const p = await vmxRpci.next(() => true, 5000).catch(() => undefined);
      if (!p) continue;
      seen.push(p.payload?.toString('latin1') ?? '');
      vmxRpci.send({ type: GUESTRPC_TYPE.data, payload: Buffer.from('1 ') });
    }
  })();
  t.after(() => {
    answering = false;
  });
  vmxTclo.send({ type: GUESTRPC_TYPE.data, payload: Buffer.from('reset') });
  const reply = await vmxTclo.next((p) => p.type === GUESTRPC_TYPE.data, 3000);
  assert.equal(reply.payload?.toString(), 'OK ATR toolbox');
  assert.deepEqual(seen.slice(0, 4), [
    'SetGuestInfo  1 node1',
    'SetGuestInfo  5 Talos (v1.9.0)',
    'SetGuestInfo  6 other6xlinux-64',
    'SetGuestInfo  7 100',
  ]);
  assert.match(seen[4] ?? '', /^SetGuestInfo {2}10 /);
});
