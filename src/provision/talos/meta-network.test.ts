// META key 10 against Talos's own field definitions (pkg/machinery/resources/network: the yaml tags of
// AddressSpecSpec, LinkSpecSpec, RouteSpecSpec, HostnameSpecSpec, ResolverSpecSpec, TimeServerSpecSpec and
// PlatformConfigSpec, in declaration order, and the enum spellings of nethelpers and ConfigLayer), for
// IPv4, IPv6 and dual stack; and the refusals.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parse } from 'yaml';
import { linkNameForMac, renderPlatformNetworkConfig, resolveStaticNetwork, type StaticNetworkInput } from './meta-network.js';

// Field names in declaration order; omitempty fields Talos leaves out when zero are not listed.
const TALOS_FIELDS = {
  top: ['addresses', 'links', 'routes', 'hostnames', 'resolvers', 'timeServers', 'operators', 'externalIPs'],
  address: ['address', 'linkName', 'family', 'scope', 'flags', 'layer'],
  link: ['name', 'logical', 'up', 'mtu', 'kind', 'type', 'layer'],
  route: ['family', 'dst', 'src', 'gateway', 'outLinkName', 'table', 'priority', 'scope', 'type', 'flags', 'protocol', 'layer'],
  hostname: ['hostname', 'domainname', 'layer'],
  resolver: ['dnsServers', 'nameServers', 'layer'],
  nameServer: ['addr', 'protocol', 'tlsServerName'],
  timeServer: ['timeServers', 'layer'],
};
// Enum spellings (nethelpers' enumer tables; ConfigLayer's linecomments).
const ENUMS = {
  family: ['inet4', 'inet6'],
  scope: ['global', 'site', 'link', 'host', 'nowhere'],
  table: ['main'],
  type: ['unicast'],
  protocol: ['static'],
  layer: ['platform'],
  flags: ['permanent'],
  linkType: ['ether'],
  dns: ['Do53'],
};

type Obj = Record<string, unknown>;
function checkShape(yaml: string): Obj {
  const doc = parse(yaml) as Obj;
  assert.deepEqual(Object.keys(doc), TALOS_FIELDS.top);
  for (const a of doc.addresses as Obj[]) {
    assert.deepEqual(Object.keys(a), TALOS_FIELDS.address);
    assert.ok(
      ENUMS.family.includes(a.family as string) && ENUMS.scope.includes(a.scope as string) && ENUMS.flags.includes(a.flags as string),
    );
  }
  for (const l of doc.links as Obj[]) {
    assert.deepEqual(Object.keys(l), TALOS_FIELDS.link);
    assert.equal(l.type, ENUMS.linkType[0]);
  }
  for (const r of doc.routes as Obj[]) {
    assert.deepEqual(Object.keys(r), TALOS_FIELDS.route);
    assert.equal(r.dst, '', 'the default route is dst: ""');
    assert.ok(
      ENUMS.table.includes(r.table as string) && ENUMS.type.includes(r.type as string) && ENUMS.protocol.includes(r.protocol as string),
    );
  }
  for (const h of doc.hostnames as Obj[]) assert.deepEqual(Object.keys(h), TALOS_FIELDS.hostname);
  for (const r of doc.resolvers as Obj[]) {
    assert.deepEqual(Object.keys(r), TALOS_FIELDS.resolver);
    for (const n of r.nameServers as Obj[]) {
      assert.deepEqual(Object.keys(n), TALOS_FIELDS.nameServer);
      assert.equal(n.protocol, ENUMS.dns[0]);
    }
  }
  for (const t of doc.timeServers as Obj[]) assert.deepEqual(Object.keys(t), TALOS_FIELDS.timeServer);
  for (const list of ['addresses', 'links', 'routes', 'hostnames', 'resolvers', 'timeServers'])
    for (const e of doc[list] as Obj[]) assert.equal(e.layer, 'platform', list);
  return doc;
}

const base: StaticNetworkInput = { addresses: [], gateways: [], link: 'ens18', dns: [], timeServers: [] };
const render = (over: Partial<StaticNetworkInput>) => renderPlatformNetworkConfig(resolveStaticNetwork({ ...base, ...over }));

test('IPv4: one address, default route via the gateway, host name, resolver', () => {
  const yaml = render({ addresses: ['192.0.2.11/24'], gateways: ['192.0.2.1'], hostname: 'cp1', dns: ['192.0.2.1'] });
  // The address entry exactly as Talos's yaml.Marshal writes one (cf. platform/nocloud/testdata/expected-v2.yaml).
  assert.ok(
    yaml.startsWith(
      'addresses:\n    - address: 192.0.2.11/24\n      linkName: ens18\n      family: inet4\n      scope: global\n      flags: permanent\n      layer: platform\n',
    ),
  );
  const doc = checkShape(yaml);
  assert.deepEqual((doc.routes as Obj[])[0], {
    family: 'inet4',
    dst: '',
    src: '',
    gateway: '192.0.2.1',
    outLinkName: 'ens18',
    table: 'main',
    priority: 1024,
    scope: 'global',
    type: 'unicast',
    flags: '',
    protocol: 'static',
    layer: 'platform',
  });
  assert.deepEqual(doc.hostnames, [{ hostname: 'cp1', domainname: '', layer: 'platform' }]);
  assert.match(yaml, /\noperators: \[\]\nexternalIPs: \[\]\n$/);
});

test("IPv6: the address in Go's spelling (RFC 5952), family inet6, route metric 2048", () => {
  const doc = checkShape(render({ addresses: ['2001:DB8:0:0:0:0:0:11/64'], gateways: ['2001:db8::1'] }));
  assert.equal((doc.addresses as Obj[])[0]?.address, '2001:db8::11/64');
  assert.deepEqual([(doc.routes as Obj[])[0]?.family, (doc.routes as Obj[])[0]?.priority], ['inet6', 2048]);
});

test('dual stack with a link-local IPv6 gateway, FQDN, MTU, time server, link by MAC', () => {
  const doc = checkShape(
    render({
      link: undefined,
      linkMac: '52:54:00:AB:cd:01',
      addresses: ['192.0.2.11/24', '2001:db8::11/64'],
      gateways: ['192.0.2.1', 'fe80::1'],
      hostname: 'cp1.lab.example',
      dns: ['192.0.2.1', '2001:db8::53'],
      timeServers: ['pool.ntp.org'],
      mtu: 9000,
    }),
  );
  assert.equal((doc.links as Obj[])[0]?.name, 'enx525400abcd01');
  assert.equal((doc.links as Obj[])[0]?.mtu, 9000);
  assert.deepEqual(
    (doc.routes as Obj[]).map((r) => r.family),
    ['inet4', 'inet6'],
  );
  assert.deepEqual(doc.hostnames, [{ hostname: 'cp1', domainname: 'lab.example', layer: 'platform' }]);
  assert.equal(linkNameForMac('52-54-00-12-34-56'), 'enx525400123456');
});

test('nonsense is refused with the reason', () => {
  const refuse = (over: Partial<StaticNetworkInput>, re: RegExp) => assert.throws(() => render(over), re);
  refuse({ addresses: ['192.0.2.11/24'], gateways: ['198.51.100.1'] }, /outside every IPv4 subnet.*check the prefix length/);
  refuse({ addresses: ['192.0.2.11/24'], gateways: ['192.0.2.11'] }, /node's own address/);
  refuse({ addresses: ['192.0.2.11/24', '192.0.2.11/25'] }, /given twice/);
  refuse({ addresses: ['192.0.2.0/24'] }, /network address/);
  refuse({ addresses: ['192.0.2.255/24'] }, /broadcast address/);
  refuse({ addresses: ['192.0.2.11'] }, /prefix length/);
  refuse({ addresses: ['192.0.2.11/33'] }, /prefix is 0-32/);
  refuse({ addresses: ['300.0.2.11/24'] }, /an IP address is expected/);
  refuse({ addresses: ['127.0.0.2/8'] }, /not a unicast host address/);
  refuse({ addresses: ['::ffff:192.0.2.1/120'] }, /IPv4-mapped/);
  refuse({ addresses: ['192.0.2.11/24'], gateways: ['2001:db8::1'] }, /no IPv6 --address/);
  refuse({ addresses: ['192.0.2.11/24'], gateways: ['192.0.2.1', '192.0.2.2'] }, /one IPv4 gateway at most/);
  refuse({ addresses: ['192.0.2.11/24'], dns: ['192.0.2.1', '192.0.2.1'] }, /given twice/);
  refuse({ addresses: ['2001:db8::11/64'], mtu: 1000 }, /IPv6 needs at least 1280/);
  refuse({ addresses: ['192.0.2.11/24'], link: undefined }, /say which link/);
  refuse({ addresses: ['192.0.2.11/24'], linkMac: '52:54:00:12:34:56' }, /not both/);
  refuse({ addresses: ['192.0.2.11/24'], hostname: 'bad_name' }, /--hostname/);
  refuse({ addresses: [] }, /at least one --address/);
});
