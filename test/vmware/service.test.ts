// The TCLO sequences of govmomi's toolbox tests (TestServiceRun, TestServiceErrors,
// TestServiceResetChannel, TestPowerCommandHandler) played by the VMX double against our service,
// with every RPCI the agent sends checked.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { RpciClient } from '../../src/commands/vmware/rpci-client.js';
import { TcloService } from '../../src/commands/vmware/service.js';
import { decodeGuestNicProto } from '../../src/protocol/vmware/nicinfo-xdr.js';
import { VmxDouble } from '../doubles/vmx.js';
import { ETH0, startFixture } from './fixture.js';

const NIC_V3 = /^SetGuestInfo {2}10 /;

test('TestServiceRun: reset, ping, Set_Option, Capabilities_Register, broadcastIP get the replies vmtoolsd gives', async (t) => {
  const { vmx, fe } = startFixture();
  t.after(() => fe.stop());
  vmx.play('reset', 'ping', 'Set_Option synctime 0', 'Capabilities_Register', 'Set_Option broadcastIP 1');
  await fe.start();
  await vmx.until(() => vmx.replies.length === 5, 3000, 'five replies');
  assert.deepEqual(
    vmx.replies.map((r) => [r.command, r.reply]),
    [
      ['reset', 'OK ATR toolbox'],
      ['ping', 'OK '],
      ['Set_Option synctime 0', 'OK '],
      ['Capabilities_Register', 'OK '],
      ['Set_Option broadcastIP 1', 'OK '],
    ],
  );
  const texts = vmx.rpciTexts().map((s) => (NIC_V3.test(s) ? 'SetGuestInfo  10 <xdr>' : s));
  assert.deepEqual(texts, [
    // reset: the guest info, all of it
    'SetGuestInfo  1 node1',
    'SetGuestInfo  5 Talos (v1.9.0)',
    'SetGuestInfo  6 other6xlinux-64',
    'SetGuestInfo  7 12345',
    'SetGuestInfo  10 <xdr>',
    // Capabilities_Register
    'vmx.capability.unified_loop toolbox',
    'tools.set.versiontype 2147483647 4',
    'tools.capability.statechange ',
    'tools.capability.softpowerop_retry ',
    'SetGuestInfo  7 12345',
    // broadcastIP: the address, then the NIC info again
    'info-set guestinfo.ip 192.168.1.10',
    'SetGuestInfo  10 <xdr>',
  ]);
  for (const r of vmx.rpcis) assert.equal(r.reply.toString(), '1 ', `VMX accepted ${r.text.slice(0, 40)}`);
  assert.equal(vmx.state.toolsVersion, 2147483647);
  assert.equal(vmx.state.guestinfoVars.get('ip'), '192.168.1.10');
  assert.equal(vmx.state.nicInfo?.nics[0]?.mac, '00:50:56:aa:bb:cc');
});

test('poll back-off: 0 after a command, then 10, 20, 40, 80, 100 ms and no more', async (t) => {
  const { vmx, fe } = startFixture();
  t.after(() => fe.stop());
  vmx.play('ping');
  await fe.start();
  await vmx.until(() => vmx.replies.length === 1, 2000, 'ping reply');
  const from = fe.service.delaysMs.length;
  await vmx.until(() => fe.service.delaysMs.length >= from + 7, 3000, 'seven more polls');
  const seq = fe.service.delaysMs.slice(from - 1, from + 7);
  assert.deepEqual(seq, [0, 10, 20, 40, 80, 100, 100, 100]);
  // A new command resets the delay to 0.
  vmx.play('ping');
  await vmx.until(() => vmx.replies.length === 2, 2000, 'second ping');
  await vmx.until(() => fe.service.delaysMs.length > 0 && fe.service.delaysMs.at(-1) === 0, 2000, 'a zero delay');
});

test('TestServiceErrors: refused capabilities still register, refused info-set is an ERROR, unknown and failing commands', async (t) => {
  const { vmx, fe, setInterfaces } = startFixture();
  t.after(() => fe.stop());
  fe.service.register('Sorry', () => {
    throw new Error('i am so sorry');
  });
  vmx.refused = ['vmx.capability', 'tools.'];
  await fe.start();
  vmx.play('Capabilities_Register');
  await vmx.until(() => vmx.replies.length === 1);
  assert.equal(vmx.replies[0]?.reply, 'OK ');
  // versiontype refused -> falls back to tools.set.version, which is refused too, and nothing breaks
  assert.ok(vmx.rpciTexts().includes('tools.set.versiontype 2147483647 4'));
  assert.ok(vmx.rpciTexts().includes('tools.set.version 2147483647'));
  vmx.refused = [];

  vmx.forcedRpciReplies = [Buffer.from('0 no')];
  vmx.play('Set_Option broadcastIP 1');
  await vmx.until(() => vmx.replies.length === 2);
  assert.match(vmx.replies[1]?.reply ?? '', /^ERROR the VMX refused "info-set guestinfo\.ip 192\.168\.1\.10": "no"$/);

  setInterfaces([]); // no address to publish: OK, nothing sent (govmomi: empty PrimaryIP)
  const before = vmx.rpcis.length;
  vmx.play('Set_Option broadcastIP 1');
  await vmx.until(() => vmx.replies.length === 3);
  assert.equal(vmx.replies[2]?.reply, 'OK ');
  assert.equal(vmx.rpcis.length, before);
  setInterfaces([ETH0]);

  vmx.play('Set_Option broadcastIP', 'Set_Option', 'NOPE', 'Sorry', 'NOPE with args\0');
  await vmx.until(() => vmx.replies.length === 8);
  assert.deepEqual(
    vmx.replies.slice(3).map((r) => r.reply),
    ['OK ', 'OK ', 'ERROR Unknown Command', 'ERROR i am so sorry', 'ERROR Unknown Command'],
  );
});

test('RPCI replies without "1 " are refused; an empty request is not sent', async () => {
  const vmx = new VmxDouble();
  const rpci = new RpciClient(vmx.rpciChannel());
  await rpci.channel.start();
  vmx.forcedRpciReplies = [Buffer.from('1 foo'), Buffer.from('foo'), Buffer.from('0 bar')];
  assert.equal((await rpci.request(Buffer.from('log x'))).toString(), 'foo');
  await assert.rejects(rpci.request(Buffer.from('log y')), { code: 'RPCI_BAD_REPLY' });
  await assert.rejects(rpci.request(Buffer.from('log z')), { code: 'RPCI_REFUSED', message: /"bar"/ });
  await assert.rejects(rpci.request(Buffer.alloc(0)), { code: 'RPCI_BAD_REPLY' });
  await assert.rejects(rpci.request(Buffer.alloc(70 * 1024, 0x41)), { code: 'MESSAGE_TOO_LONG' });
  assert.equal(vmx.rpcis.length, 3);
  assert.equal(rpci.channelFailed, false, 'refusals are not channel failures');
});

test('start fails with the transport error, and a half-open start closes the TCLO channel again', async () => {
  const vmx = new VmxDouble();
  const service = new TcloService(vmx.tcloChannel(), new RpciClient(vmx.rpciChannel()));
  vmx.tcloStartErrors = [new Error('no TCLO')];
  await assert.rejects(service.start(), /no TCLO/);
  vmx.rpciStartErrors = [new Error('no RPCI')];
  await assert.rejects(service.start(), /no RPCI/);
  assert.equal(vmx.tcloCount.stops, 1, 'TCLO closed after the RPCI open failed');
  await service.start();
  await service.stop();
});

test('TestServiceResetChannel: a send error every 10th call reopens both channels each time', async (t) => {
  const vmx = new VmxDouble();
  const service = new TcloService(vmx.tcloChannel(), new RpciClient(vmx.rpciChannel()), { resetDelayMs: 5 });
  t.after(() => service.stop());
  service.register('ping', () => undefined);
  vmx.failTcloSendEvery = 10;
  // Keep the host busy so the loop polls at 0 ms and reaches the failures quickly.
  vmx.play(...new Array(40).fill('ping'));
  await service.start();
  await vmx.until(() => vmx.tcloCount.failures >= 2 && service.resets >= 2, 5000, 'two failures and two reopenings');
  await service.stop();
  assert.equal(vmx.tcloCount.starts, 1 + service.resets);
  assert.equal(vmx.rpciCount.starts, 1 + service.resets);
  assert.equal(vmx.tcloCount.stops, vmx.tcloCount.starts, 'every open channel was closed');
  // The reply lost with each failed send is not sent again on the new channel; the others arrived.
  assert.ok(vmx.lost.length >= 2 && vmx.lost.length <= vmx.tcloCount.failures, `lost ${vmx.lost.length}`);
  assert.ok(vmx.replies.length >= 10 && vmx.replies.every((r) => r.reply === 'OK '), JSON.stringify(vmx.replies));
});

test('a channel that will not reopen is retried after the reset delay, not in a loop', async (t) => {
  const vmx = new VmxDouble();
  const service = new TcloService(vmx.tcloChannel(), new RpciClient(vmx.rpciChannel()), { resetDelayMs: 50 });
  t.after(() => service.stop());
  await service.start();
  vmx.failTcloSendEvery = 1;
  vmx.tcloStartErrors = [new Error('gone'), new Error('gone'), new Error('gone')];
  await vmx.until(() => vmx.tcloCount.starts >= 4, 3000, 'three failed reopenings');
  vmx.failTcloSendEvery = 0;
  await vmx.until(() => service.resets >= 1, 3000, 'a reopening');
  const resets = service.delaysMs.filter((d) => d === 50).length;
  assert.ok(resets >= 4, `waited the reset delay before each attempt (${resets})`);
});

test('TestPowerCommandHandler: OS_Halt and OS_Reboot report status 1, then go through node.power after the OK', async (t) => {
  const { vmx, fe, power } = startFixture();
  t.after(() => fe.stop());
  await fe.start();
  vmx.play('OS_Halt');
  await vmx.until(() => power.requests.length === 1, 2000, 'the halt');
  assert.equal(vmx.replies[0]?.reply, 'OK ');
  assert.deepEqual(vmx.state.stateChanges, [{ ok: true, state: 1 }]);
  assert.ok(vmx.rpciTexts().includes('tools.os.statechange.status 1 1\0'));
  assert.deepEqual(
    power.requests.map((r) => [r.action, r.mode]),
    [['shutdown', 'powerdown']],
  );
  vmx.play('OS_Reboot');
  await vmx.until(() => power.requests.length === 2, 2000, 'the reboot');
  assert.deepEqual(vmx.state.stateChanges.at(-1), { ok: true, state: 2 });
  assert.equal(power.requests[1]?.mode, 'reboot');
  vmx.play('OS_PowerOn', 'OS_Resume', 'OS_Suspend');
  await vmx.until(() => vmx.replies.length === 5);
  assert.deepEqual(
    vmx.state.stateChanges.slice(2),
    [3, 4, 5].map((state) => ({ ok: true, state })),
  );
  assert.equal(power.requests.length, 2, 'notifications do not act');
});

test('the power action starts only after the VMX has the OK', async (t) => {
  const { vmx, fe, power } = startFixture();
  t.after(() => fe.stop());
  let repliesWhenActed = -1;
  const orig = power.shutdown.bind(power);
  power.shutdown = async (mode) => {
    repliesWhenActed = vmx.replies.length;
    return orig(mode);
  };
  await fe.start();
  vmx.play('OS_Reboot');
  await vmx.until(() => power.requests.length === 1);
  assert.equal(repliesWhenActed, 1);
});

test('no power back end: halt and reboot report status 0 (govmomi: no handler); a failing one reports 0 after 1', async (t) => {
  const a = startFixture({ noPower: true });
  t.after(() => a.fe.stop());
  await a.fe.start();
  a.vmx.play('OS_Halt', 'OS_Reboot');
  await a.vmx.until(() => a.vmx.replies.length === 2);
  assert.deepEqual(
    a.vmx.replies.map((r) => r.reply),
    ['OK ', 'OK '],
  );
  assert.deepEqual(a.vmx.state.stateChanges, [
    { ok: false, state: 1 },
    { ok: false, state: 2 },
  ]);

  const b = startFixture();
  t.after(() => b.fe.stop());
  b.power.shutdown = async () => {
    throw new Error('drain timed out');
  };
  await b.fe.start();
  b.vmx.play('OS_Reboot');
  await b.vmx.until(() => b.vmx.state.stateChanges.length === 2, 2000, 'two status reports');
  assert.deepEqual(b.vmx.state.stateChanges, [
    { ok: true, state: 2 },
    { ok: false, state: 2 },
  ]);
});

test('NIC info: at most 16 NICs, CNI and container interfaces, loopback and MAC-less links left out', async (t) => {
  const many = Array.from({ length: 20 }, (_, i) => ({
    name: `ens${i}`,
    hardwareAddress: `00:50:56:00:00:${i.toString(16).padStart(2, '0')}`,
    addresses: [{ address: `10.0.${i}.2`, family: 'ipv4' as const, prefix: 24 }],
  }));
  const noise = [
    { name: 'lo', hardwareAddress: '00:00:00:00:00:00', addresses: [{ address: '127.0.0.1', family: 'ipv4' as const, prefix: 8 }] },
    { name: 'veth1234', hardwareAddress: '02:00:00:00:00:01', addresses: [{ address: '10.244.0.1', family: 'ipv4' as const, prefix: 32 }] },
    { name: 'cali0ab', hardwareAddress: '02:00:00:00:00:02', addresses: [{ address: '10.244.0.2', family: 'ipv4' as const, prefix: 32 }] },
    {
      name: 'cilium_host',
      hardwareAddress: '02:00:00:00:00:03',
      addresses: [{ address: '10.244.0.3', family: 'ipv4' as const, prefix: 32 }],
      virtual: true,
    },
    { name: 'docker0', hardwareAddress: '02:00:00:00:00:04', addresses: [{ address: '172.17.0.1', family: 'ipv4' as const, prefix: 16 }] },
    { name: 'wg0', addresses: [{ address: '10.9.0.1', family: 'ipv4' as const, prefix: 24 }] },
    { name: 'eth-down', hardwareAddress: '00:50:56:99:99:99', addresses: [] },
  ];
  const { vmx, fe } = startFixture({ interfaces: [...noise, ...many] });
  t.after(() => fe.stop());
  await fe.start();
  vmx.play('reset');
  await vmx.until(() => vmx.state.nicInfo !== undefined);
  const nics = vmx.state.nicInfo?.nics ?? [];
  assert.equal(nics.length, 16);
  assert.deepEqual(
    nics.map((n) => n.mac),
    many.slice(0, 16).map((i) => i.hardwareAddress),
  );
  assert.equal(vmx.state.nicInfoKind, 10);
  const xdr = vmx.rpcis.find((r) => NIC_V3.test(r.text))?.request.subarray('SetGuestInfo  10 '.length);
  assert.ok(xdr && decodeGuestNicProto(xdr).v3?.nics.length === 16);
});

test('a host that refuses INFO_IPADDRESS_V3 gets the same XDR as INFO_IPADDRESS_V2', async (t) => {
  const { vmx, fe } = startFixture();
  t.after(() => fe.stop());
  vmx.refused = ['SetGuestInfo  10 '];
  await fe.start();
  vmx.play('reset');
  await vmx.until(() => vmx.state.nicInfo !== undefined);
  assert.equal(vmx.state.nicInfoKind, 9);
});

test('guest info is sent when it changed; reset sends all again; a stale cache is refreshed on ping', async (t) => {
  let now = 1_000_000;
  const { vmx, fe, setInterfaces } = startFixture({ now: () => now, refreshMs: 30_000 });
  t.after(() => fe.stop());
  await fe.start();
  vmx.play('reset');
  await vmx.until(() => vmx.replies.length === 1);
  const first = vmx.rpcis.length;
  vmx.play('ping');
  await vmx.until(() => vmx.replies.length === 2);
  assert.equal(vmx.rpcis.length, first, 'a fresh cache: ping sends nothing');
  now += 31_000;
  setInterfaces([{ ...ETH0, addresses: [{ address: '192.168.1.11', family: 'ipv4', prefix: 24 }] }]);
  vmx.play('ping');
  await vmx.until(() => vmx.replies.length === 3);
  assert.deepEqual(
    vmx
      .rpciTexts()
      .slice(first)
      .map((s) => s.slice(0, 16)),
    ['SetGuestInfo  7 ', 'SetGuestInfo  10'],
    'only the uptime and the changed NIC info',
  );
  vmx.play('reset');
  await vmx.until(() => vmx.replies.length === 4);
  assert.equal(vmx.rpcis.length - first - 2, 5, 'reset sends all five again');
});

test('an RPCI channel failure inside a handler reopens both channels after the reset delay', async (t) => {
  const { vmx, fe } = startFixture({ service: { resetDelayMs: 30 } });
  t.after(() => fe.stop());
  await fe.start();
  const rpci = fe.rpci.channel;
  const realSend = rpci.send.bind(rpci);
  let failOnce = true;
  rpci.send = async (m) => {
    if (failOnce) {
      failOnce = false;
      throw new Error('injected RPCI failure');
    }
    return realSend(m);
  };
  vmx.play('Capabilities_Register');
  await vmx.until(() => fe.service.resets === 1, 3000, 'a reopening');
  assert.equal(vmx.replies[0]?.reply, 'OK ', 'capability failures do not fail the command');
  assert.ok(fe.service.delaysMs.includes(30), 'waited the reset delay');
  assert.equal(vmx.rpciCount.starts, 2);
  vmx.play('ping');
  await vmx.until(() => vmx.replies.length === 2);
});
