// The backdoor message protocol (OPEN, SENDSIZE, SENDPAYLOAD, RECVSIZE, RECVPAYLOAD, RECVSTATUS, CLOSE)
// against a register-level double of the VMX's message handler, and the real addon's detection on this
// machine, which is not VMware: it must refuse without executing the instruction (that would fault).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { loadNative } from '../../src/native/addon.js';
import {
  type BackdoorCall,
  BackdoorChannel,
  BDOOR_MAGIC,
  backdoorGetVersion,
  MESSAGE_STATUS,
} from '../../src/transport/vmware/backdoor.js';
import { isVmware, RPCI_PROTO, selectChannels, TCLO_PROTO, vmwareUnavailableReason } from '../../src/transport/vmware/select.js';

interface FakeChannel {
  proto: number;
  cookieHigh: number;
  cookieLow: number;
  /** Bytes the guest is sending. */
  inbound?: { size: number; data: Buffer };
  /** The message queued for the guest. */
  outbound?: { data: Buffer; off: number };
}

/** A register-level VMX: channels with cookies, 4-byte payload words, a reply queue per channel. */
class RegisterVmx {
  readonly channels = new Map<number, FakeChannel>();
  readonly received: { proto: number; data: Buffer }[] = [];
  private nextId = 1;
  calls = 0;
  /** Answer each received message with this (per protocol). */
  answer: (proto: number, data: Buffer) => Buffer | undefined = () => undefined;
  /** Report a checkpoint on the next N payload calls. */
  checkpoints = 0;

  call: BackdoorCall = (bx, cx, dxHigh, si, di) => {
    this.calls++;
    const cmd = cx & 0xffff;
    const type = cx >>> 16;
    const ret = (status: number, rbx = 0, rdxHigh = 0, rsi = si, rdi = di) => [
      BDOOR_MAGIC,
      rbx >>> 0,
      (status << 16) >>> 0,
      ((rdxHigh << 16) | 0x5658) >>> 0,
      rsi >>> 0,
      rdi >>> 0,
    ];
    if (cmd === 10) return [6, BDOOR_MAGIC, 2, 0x5658, 0, 0];
    assert.equal(cmd, 30, 'only MESSAGE');
    if (type === 0) {
      const id = this.nextId++;
      const ch: FakeChannel = { proto: (bx & 0x7fffffff) >>> 0, cookieHigh: 0x1000 + id, cookieLow: 0x2000 + id };
      this.channels.set(id, ch);
      return ret(MESSAGE_STATUS.success, 0, id, ch.cookieHigh, ch.cookieLow);
    }
    const ch = this.channels.get(dxHigh);
    if (!ch || ch.cookieHigh !== si || ch.cookieLow !== di) return ret(0);
    switch (type) {
      case 1: // SENDSIZE
        ch.inbound = { size: bx, data: Buffer.alloc(0) };
        if (bx === 0) this.complete(dxHigh, ch);
        return ret(MESSAGE_STATUS.success);
      case 2: {
        // SENDPAYLOAD
        if (this.checkpoints > 0) {
          this.checkpoints--;
          return ret(MESSAGE_STATUS.checkpoint);
        }
        if (!ch.inbound) return ret(0);
        const w = Buffer.alloc(4);
        w.writeUInt32LE(bx);
        const take = Math.min(4, ch.inbound.size - ch.inbound.data.length);
        ch.inbound.data = Buffer.concat([ch.inbound.data, w.subarray(0, take)]);
        if (ch.inbound.data.length === ch.inbound.size) this.complete(dxHigh, ch);
        return ret(MESSAGE_STATUS.success);
      }
      case 3: // RECVSIZE
        if (!ch.outbound) return ret(MESSAGE_STATUS.success);
        ch.outbound.off = 0;
        return ret(MESSAGE_STATUS.success | MESSAGE_STATUS.doRecv, ch.outbound.data.length, 1);
      case 4: {
        // RECVPAYLOAD
        if (!ch.outbound) return ret(0);
        const w = Buffer.alloc(4);
        ch.outbound.data.copy(w, 0, ch.outbound.off, ch.outbound.off + 4);
        ch.outbound.off += 4;
        return ret(MESSAGE_STATUS.success, w.readUInt32LE(0), 2);
      }
      case 5: // RECVSTATUS
        if (bx === MESSAGE_STATUS.success) ch.outbound = undefined;
        return ret(MESSAGE_STATUS.success);
      case 6:
        this.channels.delete(dxHigh);
        return ret(MESSAGE_STATUS.success);
    }
    return ret(0);
  };

  private complete(_id: number, ch: FakeChannel): void {
    const data = ch.inbound?.data ?? Buffer.alloc(0);
    ch.inbound = undefined;
    this.received.push({ proto: ch.proto, data });
    const reply = this.answer(ch.proto, data);
    if (reply) ch.outbound = { data: reply, off: 0 };
  }

  queue(proto: number, data: Buffer): void {
    for (const ch of this.channels.values()) if (ch.proto === proto) ch.outbound = { data, off: 0 };
  }
}

test('backdoor channel: open with a cookie, send and receive every length 0..9 byte for byte, close', async () => {
  const vmx = new RegisterVmx();
  vmx.answer = (proto, data) => (proto === RPCI_PROTO ? Buffer.concat([Buffer.from('1 '), data]) : undefined);
  const rpci = new BackdoorChannel(vmx.call, RPCI_PROTO);
  await rpci.start();
  assert.equal(vmx.channels.size, 1);
  for (let n = 1; n <= 9; n++) {
    const msg = Buffer.from('abcdefghi'.slice(0, n));
    await rpci.send(msg);
    assert.deepEqual(vmx.received.at(-1)?.data, msg);
    assert.equal((await rpci.receive()).toString(), `1 ${msg}`);
  }
  await rpci.stop();
  assert.equal(vmx.channels.size, 0);
  await assert.rejects(rpci.send(Buffer.from('x')), { code: 'NOT_OPEN' });
});

test('backdoor TCLO: an empty poll, then a queued command; binary bytes survive', async () => {
  const vmx = new RegisterVmx();
  const tclo = new BackdoorChannel(vmx.call, TCLO_PROTO);
  await tclo.start();
  await tclo.send(Buffer.alloc(0));
  assert.equal((await tclo.receive()).length, 0);
  const cmd = Buffer.from([0x56, 0x69, 0x78, 0x20, 0x00, 0xff, 0x80, 0x01, 0x02]);
  vmx.queue(TCLO_PROTO, cmd);
  assert.deepEqual(await tclo.receive(), cmd);
  assert.equal((await tclo.receive()).length, 0, 'RECVSTATUS acknowledged it: not delivered twice');
});

test('backdoor: a checkpoint during a send starts it over; a refused channel and oversize messages are errors', async () => {
  const vmx = new RegisterVmx();
  const ch = new BackdoorChannel(vmx.call, RPCI_PROTO);
  await ch.start();
  vmx.checkpoints = 1;
  await ch.send(Buffer.from('tools.set.version 1'));
  assert.equal(vmx.received.at(-1)?.data.toString(), 'tools.set.version 1');
  await assert.rejects(ch.send(Buffer.alloc(64 * 1024 + 1)), { code: 'TOO_LONG' });
  const dead = new BackdoorChannel(() => [0, 0, 0, 0, 0, 0], TCLO_PROTO);
  await assert.rejects(dead.start(), { code: 'BACKDOOR_STATUS' });
});

test('GETVERSION: the magic echoed in EBX', () => {
  const vmx = new RegisterVmx();
  assert.deepEqual(backdoorGetVersion(vmx.call), { version: 6, magicEchoed: true, product: 2 });
});

test('this machine is not VMware: detection says so, and the addon refuses the backdoor without executing it', async (t) => {
  const native = loadNative();
  if (!native?.hypervisorVendor) {
    t.skip('native addon not built (npm run build:native)');
    return;
  }
  const vendor = native.hypervisorVendor();
  t.diagnostic(`CPUID hypervisor vendor: ${JSON.stringify(vendor)}`);
  assert.notEqual(vendor, 'VMwareVMware', 'this test assumes a non-VMware machine');
  assert.equal(isVmware(native), false);
  // Were the instruction executed here, the process would die of SIGSEGV instead of throwing.
  assert.throws(() => native.backdoorCall(0, 10, 0, 0, 0), { code: 'ENODEV', syscall: 'vmware-backdoor' });
  const picked = await selectChannels(native, 'auto');
  assert.ok('reason' in picked && /not VMware/.test(picked.reason), JSON.stringify(picked));
  const forced = await selectChannels(native, 'backdoor');
  assert.ok('reason' in forced, 'an explicit backdoor is refused too');
  // The addon's other exports still work.
  assert.equal(typeof native.clockGetTime(), 'bigint');
  assert.equal(native.strerror(2), 'No such file or directory');
});

test('selectChannels on a VMware CPU: vsock when it connects, else the backdoor; an explicit vsock reports why not', async () => {
  const fake = (vsockOk: boolean) => ({
    hypervisorVendor: () => 'VMwareVMware',
    backdoorCall: new RegisterVmx().call,
    vsockConnect: () => {
      if (!vsockOk) throw Object.assign(new Error('Address family not supported by protocol'), { code: 'EAFNOSUPPORT' });
      return -1; // never read: select closes what it opened (closing -1 is ignored)
    },
  });
  const a = await selectChannels(fake(false), 'auto');
  assert.ok('channels' in a && a.channels.transport === 'backdoor');
  const b = await selectChannels(fake(false), 'vsock');
  assert.ok('reason' in b && /Address family/.test(b.reason));
  const c = await selectChannels(fake(true), 'auto');
  assert.ok('channels' in c && c.channels.transport === 'vsock');
});

test('VMware guest RPC exists on x86 only: elsewhere the reason names the architecture (the arm64 addon is built without it)', () => {
  assert.equal(vmwareUnavailableReason('x64'), undefined);
  assert.equal(vmwareUnavailableReason('ia32'), undefined);
  for (const arch of ['arm64', 'riscv64', 'ppc64']) {
    const reason = vmwareUnavailableReason(arch);
    assert.match(reason ?? '', /x86-only/);
    assert.match(reason ?? '', new RegExp(`this is ${arch}`));
  }
});
