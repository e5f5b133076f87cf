import assert from 'node:assert/strict';
import type os from 'node:os';
import { after, describe, it } from 'node:test';
import { fixtureRoot } from './fixture.test-util.js';
import { LinuxNetwork, netmaskBits } from './network.js';

const v4 = (address: string, cidr: number): os.NetworkInterfaceInfo => ({
  address,
  netmask: '',
  family: 'IPv4',
  mac: '',
  internal: false,
  cidr: `${address}/${cidr}`,
});
const v6 = (address: string, cidr: number): os.NetworkInterfaceInfo => ({
  address,
  netmask: '',
  family: 'IPv6',
  mac: '',
  internal: false,
  cidr: `${address}/${cidr}`,
  scopeid: 0,
});

describe('LinuxNetwork on a fixture tree', () => {
  const fx = fixtureRoot('gl-net-');
  after(() => fx.cleanup());
  const link = (name: string, index: number, mac: string) => {
    fx.file(`sys/class/net/${name}/ifindex`, `${index}\n`);
    fx.file(`sys/class/net/${name}/address`, `${mac}\n`);
  };
  link('eth0', 2, '52:54:00:12:34:56');
  link('lo', 1, '00:00:00:00:00:00');
  link('cali12345', 7, 'ee:ee:ee:ee:ee:ee');
  link('tunl0', 5, '00:00:00:00');
  link('down0', 6, '52:54:00:00:00:06');
  fx.file(
    'proc/net/dev',
    [
      'Inter-|   Receive |  Transmit',
      ' face |bytes packets errs drop fifo frame compressed multicast|bytes packets errs drop fifo colls carrier compressed',
      '    lo: 100 1 0 0 0 0 0 0 100 1 0 0 0 0 0 0',
      '  eth0: 200 2 0 0 0 0 0 0 300 3 0 0 0 0 0 0',
      'cali12345: 1 1 0 0 0 0 0 0 1 1 0 0 0 0 0 0',
      ' down0: 5 5 0 0 0 0 0 0 5 5 0 0 0 0 0 0',
    ].join('\n'),
  );
  fx.file(
    'proc/net/if_inet6',
    'fd000000000000000000000000000006 06 40 00 80    down0\n00000000000000000000000000000001 01 80 10 80       lo\n',
  );
  fx.file('proc/net/fib_trie', 'Main:\n     |-- 10.6.0.1\n        /32 host LOCAL\n     |-- 192.0.2.10\n        /32 host LOCAL\n');
  fx.file(
    'proc/net/route',
    'Iface\tDestination\tGateway \tFlags\tRefCnt\tUse\tMetric\tMask\t\tMTU\tWindow\tIRTT\ndown0\t0000060A\t00000000\t0001\t0\t0\t0\t0000FFFF\t0\t0\t0\n',
  );
  const addrs = () => ({
    lo: [v4('127.0.0.1', 8), v6('::1', 128)],
    eth0: [v4('192.0.2.10', 24), v6('fe80::5054:ff:fe12:3456', 64)],
    'eth0:1': [v4('192.0.2.11', 24)],
    cali12345: [v6('fe80::ecee:eeff:feee:eeee', 64)],
  });
  const net = new LinuxNetwork(fx.root, addrs);

  it('lists links in ifindex order, then alias labels, with addresses, MACs and counters like qemu-ga', async () => {
    const list = await net.interfaces();
    assert.deepEqual(
      list.map((i) => i.name),
      ['lo', 'eth0', 'tunl0', 'down0', 'cali12345', 'eth0:1'],
    );
    const [lo, eth0, tunl0, down0, cali, alias] = list;
    assert.deepEqual(lo?.addresses, [
      { address: '127.0.0.1', family: 'ipv4', prefix: 8 },
      { address: '::1', family: 'ipv6', prefix: 128 },
    ]);
    assert.equal(lo?.hardwareAddress, '00:00:00:00:00:00');
    assert.equal(lo?.virtual, undefined);
    assert.equal(eth0?.hardwareAddress, '52:54:00:12:34:56');
    assert.deepEqual(eth0?.stats, {
      rxBytes: 200,
      rxPackets: 2,
      rxErrs: 0,
      rxDropped: 0,
      txBytes: 300,
      txPackets: 3,
      txErrs: 0,
      txDropped: 0,
    });
    assert.equal(eth0?.virtual, undefined);
    // No address: no statistics (qemu-ga reads counters only while adding an address).
    assert.deepEqual(tunl0?.addresses, []);
    assert.equal(tunl0?.stats, undefined);
    assert.equal(tunl0?.hardwareAddress, '00:00:00:00:00:00');
    assert.equal(tunl0?.virtual, true);
    // Not running (absent from os.networkInterfaces): IPv4 from the FIB, IPv6 from if_inet6.
    assert.deepEqual(down0?.addresses, [
      { address: '10.6.0.1', family: 'ipv4', prefix: 16 },
      { address: 'fd00::6', family: 'ipv6', prefix: 64 },
    ]);
    assert.equal(down0?.stats?.rxBytes, 5);
    assert.equal(cali?.virtual, true);
    assert.equal(cali?.stats?.txPackets, 1);
    // Alias label: the base link's MAC, no counters of its own.
    assert.equal(alias?.hardwareAddress, '52:54:00:12:34:56');
    assert.equal(alias?.stats, undefined);
  });

  it('counts netmask bits', () => {
    assert.equal(netmaskBits('255.255.255.0'), 24);
    assert.equal(netmaskBits('ffff:ffff:ffff:ffff::'), 64);
  });
});

describe('LinuxNetwork on this machine', () => {
  it('lists lo first with 127.0.0.1', async () => {
    const list = await new LinuxNetwork().interfaces();
    assert.equal(list[0]?.name, 'lo');
    assert.ok(list[0]?.addresses.some((a) => a.address === '127.0.0.1' && a.prefix === 8));
  });
});
