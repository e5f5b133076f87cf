import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { formatIpv6, ipv4OfLinks, ipv4ToInt, macFromSysfs, parseFibTrieLocal, parseIfInet6, parseNetDev, parseRoutes } from './net-proc.js';
import { isVirtualLink, VIRTUAL_LINK_PATTERNS } from './virtual-links.js';

describe('network parsers', () => {
  it('reads /proc/net/dev counters by exact name', () => {
    const text = [
      'Inter-|   Receive                                                |  Transmit',
      ' face |bytes    packets errs drop fifo frame compressed multicast|bytes    packets errs drop fifo colls carrier compressed',
      '    lo:    3193      29    0    0    0     0          0         0     3193      29    0    0    0     0       0          0',
      '  eth0: 99999999999999999 5852 1 2 0 0 0 0 389659 3231 3 4 0 0 0 0',
    ].join('\n');
    const m = parseNetDev(text);
    assert.deepEqual(m.get('lo'), {
      rxBytes: 3193,
      rxPackets: 29,
      rxErrs: 0,
      rxDropped: 0,
      txBytes: 3193,
      txPackets: 29,
      txErrs: 0,
      txDropped: 0,
    });
    assert.equal(m.get('eth0')?.rxBytes, 99999999999999999n);
    assert.equal(m.get('eth0')?.txDropped, 4);
    assert.equal(m.size, 2);
  });

  it('formats IPv6 like glibc inet_ntop', () => {
    assert.equal(formatIpv6('00000000000000000000000000000001'), '::1');
    assert.equal(formatIpv6('00000000000000000000000000000000'), '::');
    assert.equal(formatIpv6('fe8000000000000000fc00fffe000001'), 'fe80::fc:ff:fe00:1');
    assert.equal(formatIpv6('fd000000000000000000000000000002'), 'fd00::2');
    assert.equal(formatIpv6('20010db8000000010000000000000001'), '2001:db8:0:1::1');
    assert.equal(formatIpv6('20010db8000100000000000100000001'), '2001:db8:1::1:0:1');
    assert.equal(formatIpv6('00000000000000000000ffffc0000201'), '::ffff:192.0.2.1');
    assert.equal(formatIpv6('20010db8000000000001000000000000'), '2001:db8:0:0:1::');
  });

  it('reads /proc/net/if_inet6', () => {
    const text = 'fd000000000000000000000000000002 04 40 00 82     eth0\n00000000000000000000000000000001 01 80 10 80       lo\n';
    assert.deepEqual(parseIfInet6(text), [
      { address: 'fd00::2', ifindex: 4, prefix: 64, ifname: 'eth0' },
      { address: '::1', ifindex: 1, prefix: 128, ifname: 'lo' },
    ]);
  });

  it('prints MACs as SIOCGIFHWADDR does: first 6 bytes, zero-padded', () => {
    assert.equal(macFromSysfs('02:fc:00:00:00:01\n'), '02:fc:00:00:00:01');
    assert.equal(macFromSysfs('\n'), '00:00:00:00:00:00');
    assert.equal(macFromSysfs('0a:00:00:01\n'), '0a:00:00:01:00:00');
    assert.equal(macFromSysfs('80:00:02:08:fe:80:00:00:00:00:00:00:00:02:c9:03:00:0a:bc:de\n'), '80:00:02:08:fe:80');
  });
});

describe('IPv4 of links libuv skips, from the FIB', () => {
  const trie = [
    'Main:',
    '  +-- 0.0.0.0/0 3 0 5',
    '     |-- 0.0.0.0',
    '        /0 universe UNICAST',
    '     +-- 127.0.0.0/8 2 0 2',
    '           |-- 127.0.0.0',
    '              /8 host LOCAL',
    '           |-- 127.0.0.1',
    '              /32 host LOCAL',
    '        |-- 172.17.0.0',
    '           /16 link UNICAST',
    '        |-- 172.17.0.1',
    '           /32 host LOCAL',
    '        |-- 172.17.255.255',
    '           /32 link BROADCAST',
    '        |-- 10.0.0.9',
    '           /32 host LOCAL',
    'Local:',
    '           |-- 127.0.0.1',
    '              /32 host LOCAL',
  ].join('\n');
  const route = [
    'Iface\tDestination\tGateway \tFlags\tRefCnt\tUse\tMetric\tMask\t\tMTU\tWindow\tIRTT',
    'eth0\t00000000\t010200C0\t0003\t0\t0\t0\t00000000\t0\t0\t0',
    'eth0\t000200C0\t00000000\t0001\t0\t0\t0\t00FFFFFF\t0\t0\t0',
    'docker0\t000011AC\t00000000\t0001\t0\t0\t0\t0000FFFF\t0\t0\t0',
  ].join('\n');

  it('reads local addresses and little-endian routes', () => {
    assert.deepEqual(parseFibTrieLocal(trie), ['127.0.0.1', '172.17.0.1', '10.0.0.9']);
    const r = parseRoutes(route, true);
    assert.equal(r.length, 3);
    assert.deepEqual(r[2], { iface: 'docker0', destination: ipv4ToInt('172.17.0.0'), gateway: 0, mask: ipv4ToInt('255.255.0.0') });
    assert.equal(r[0]?.gateway, ipv4ToInt('192.0.2.1'));
  });

  it('gives each address to the one hidden link whose connected route covers it', () => {
    const m = ipv4OfLinks(parseFibTrieLocal(trie), parseRoutes(route, true), new Set(['docker0']));
    assert.deepEqual([...m], [['docker0', [{ address: '172.17.0.1', prefix: 16 }]]]);
    // Two hidden links on the same subnet: ambiguous, left out.
    const twice = parseRoutes(`${route}\ncni0\t000011AC\t00000000\t0001\t0\t0\t0\t0000FFFF\t0\t0\t0`, true);
    assert.equal(ipv4OfLinks(['172.17.0.1'], twice, new Set(['docker0', 'cni0'])).size, 0);
  });
});

describe('virtual link names', () => {
  it('marks CNI and container plumbing', () => {
    for (const n of [
      'veth1a2b3c',
      'cali0123456789a',
      'vxlan.calico',
      'cilium_host',
      'cilium_vxlan',
      'lxc_health',
      'lxc8f3e2a',
      'flannel.1',
      'cni0',
      'docker0',
      'br-0123456789ab',
      'kube-ipvs0',
      'kube-bridge',
      'nodelocaldns',
      'genev_sys_6081',
      'weave',
      'tunl0',
      'antrea-gw0',
      'ifb0',
    ]) {
      assert.equal(isVirtualLink(n), true, n);
    }
  });

  it('never marks lo or real NICs', () => {
    for (const n of ['lo', 'eth0', 'eth0:1', 'ens18', 'enp0s3', 'eno1', 'bond0', 'br0', 'vmbr0', 'wlan0', 'br-lan', 'breth0']) {
      assert.equal(isVirtualLink(n), false, n);
    }
    assert.ok(VIRTUAL_LINK_PATTERNS.length > 10);
  });
});
