// Decoding real-shaped COSI yaml_spec texts (fixtures.test-util.ts; Talos's own LinkStatus sample)
// and building the interface list a hypervisor sees.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ADDRESSES, type FixtureResource, HOSTNAME, LINKS, MOUNT_STATUSES } from './fixtures.test-util.js';
import type { CosiResource } from './messages.js';
import {
  buildInterfaces,
  isPhysical,
  isVirtual,
  parseAddressStatus,
  parseHostnameStatus,
  parseLinkStatus,
  parseMountStatus,
  specOf,
} from './resources.js';

const res = (f: FixtureResource): CosiResource => ({ namespace: f.namespace, type: f.type, id: f.id, yamlSpec: f.yaml });
const byId = (list: FixtureResource[], id: string) => res(list.find((f) => f.id === id) as FixtureResource);

test('LinkStatus: index, type, kind ("" for a NIC), MAC lower-cased', () => {
  assert.deepEqual(parseLinkStatus(byId(LINKS, 'eth0')), {
    name: 'eth0',
    index: 2,
    type: 'ether',
    kind: '',
    hardwareAddr: 'bc:24:11:5a:3b:01',
  });
  assert.deepEqual(parseLinkStatus(byId(LINKS, 'cilium_host')), {
    name: 'cilium_host',
    index: 8,
    type: 'ether',
    kind: 'veth',
    hardwareAddr: '8e:2f:9a:71:c4:0b',
  });
  assert.equal(parseLinkStatus(byId(LINKS, 'teql0')).hardwareAddr, '');
});

test("LinkStatus as Talos's own marshaling test prints it (bridge with bond/vlan/wireguard blocks)", () => {
  const yaml = `index: 3
type: ether
linkIndex: 44
flags: UP,RUNNING
hardwareAddr: 01:23:45:67:89:ab
permanentAddr: 01:23:45:67:89:ab
broadcastAddr: ff:ff:ff:ff:ff:ff
mtu: 1500
queueDisc: fifo
masterIndex: 4
operationalState: lowerLayerDown
kind: bridge
slaveKind: ether
busPath: '00:11:22'
pciID: '0000:00:00.0'
driver: bonding
productID: "0x3ebf"
linkState: true
speedMbit: 1024
port: TwistedPair
duplex: Full
vlan:
    vlanID: 25
    vlanProtocol: 802.1ad
wireguard:
    publicKey: bar=
    peers:
        - publicKey: peer=
          allowedIPs:
            - 192.83.93.94/31
`;
  const l = parseLinkStatus({ namespace: 'network', type: 'LinkStatuses.net.talos.dev', id: 'br0', yamlSpec: yaml });
  assert.deepEqual(l, { name: 'br0', index: 3, type: 'ether', kind: 'bridge', hardwareAddr: '01:23:45:67:89:ab' });
  assert.equal(isPhysical(l), false);
  assert.equal(isVirtual(l), false, 'a bridge from the machine config carries node IPs');
});

test('AddressStatus: CIDR split into address and prefix; family from inet4/inet6', () => {
  assert.deepEqual(parseAddressStatus(byId(ADDRESSES, 'eth0/192.168.122.51/24')), {
    linkName: 'eth0',
    address: { address: '192.168.122.51', family: 'ipv4', prefix: 24 },
  });
  assert.deepEqual(parseAddressStatus(byId(ADDRESSES, 'eth0/fe80::be24:11ff:fe5a:3b01/64')), {
    linkName: 'eth0',
    address: { address: 'fe80::be24:11ff:fe5a:3b01', family: 'ipv6', prefix: 64 },
  });
});

test('HostnameStatus: the short host name, as gethostname gives qemu-ga', () => {
  assert.equal(parseHostnameStatus(res(HOSTNAME)), 'talos-cp-1');
});

test('block MountStatus: target and filesystem type', () => {
  assert.deepEqual(parseMountStatus(res(MOUNT_STATUSES[0] as FixtureResource)), { target: '/var', filesystem: 'xfs' });
});

test('Talos physical = ether without kind; CNI, tunnels, dummies and KubeSpan are virtual; lo and bonds are neither', () => {
  const links = LINKS.map((f) => parseLinkStatus(res(f)));
  const names = (pred: (l: (typeof links)[number]) => boolean) => links.filter(pred).map((l) => l.name);
  assert.deepEqual(names(isPhysical), ['eth0', 'eth1']);
  assert.deepEqual(names(isVirtual), [
    'ip6tnl0',
    'sit0',
    'teql0',
    'cilium_net',
    'cilium_host',
    'cilium_vxlan',
    'lxc_health',
    'lxc8a1f0c2e7b3d',
    'kube-ipvs0',
  ]);
  assert.equal(isVirtual({ name: 'kubespan', index: 20, type: 'none', kind: 'wireguard', hardwareAddr: '' }), true);
});

test('interfaces: physical first, then lo and bonds, then virtual (flagged); addresses grouped; non-MACs dropped', () => {
  const list = buildInterfaces(
    LINKS.map((f) => parseLinkStatus(res(f))),
    ADDRESSES.map((f) => parseAddressStatus(res(f))).filter((a) => a !== undefined),
  );
  assert.deepEqual(
    list.map((i) => `${i.name}${i.virtual ? '*' : ''}`),
    [
      'eth0',
      'eth1',
      'lo',
      'bond0',
      'ip6tnl0*',
      'sit0*',
      'teql0*',
      'cilium_net*',
      'cilium_host*',
      'cilium_vxlan*',
      'lxc_health*',
      'lxc8a1f0c2e7b3d*',
      'kube-ipvs0*',
    ],
  );
  const byName = new Map(list.map((i) => [i.name, i]));
  assert.equal(byName.get('lo')?.hardwareAddress, '00:00:00:00:00:00');
  assert.equal(byName.get('sit0')?.hardwareAddress, undefined, '4-byte tunnel address is not a MAC');
  assert.equal(byName.get('ip6tnl0')?.hardwareAddress, undefined);
  assert.deepEqual(
    byName.get('kube-ipvs0')?.addresses.map((a) => a.address),
    ['10.96.0.1', '10.96.0.10'],
  );
  assert.deepEqual(byName.get('eth1')?.addresses, []);
});

test('an address whose link is not (yet) in LinkStatus still shows, under its link name', () => {
  const list = buildInterfaces([], [{ linkName: 'eth9', address: { address: '10.1.1.1', family: 'ipv4', prefix: 24 } }]);
  assert.deepEqual(list, [{ name: 'eth9', addresses: [{ address: '10.1.1.1', family: 'ipv4', prefix: 24 }] }]);
});

test('a yaml_spec that is not a mapping is a clear GenericError naming the resource', () => {
  assert.throws(
    () => specOf({ namespace: 'network', type: 'T', id: 'x', yamlSpec: '- a\n- b\n' }),
    /Talos resource T\/x: yaml_spec is not a mapping/,
  );
  assert.throws(() => specOf({ namespace: 'network', type: 'T', id: 'x', yamlSpec: 'a: [' }), /does not parse/);
});
