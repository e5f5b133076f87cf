// META key 10 (0xa): the platform network configuration Talos reads on the `metal` platform
// (pkg/machinery/meta MetalNetworkPlatformConfig; internal/.../platform/metal reads it with yaml.Unmarshal
// into network.PlatformConfigSpec). Written with Talos's own field names, order and enum spellings
// (pkg/machinery/resources/network: AddressSpecSpec, LinkSpecSpec, RouteSpecSpec, HostnameSpecSpec,
// ResolverSpecSpec, TimeServerSpecSpec; every entry `layer: platform`), in the form Talos's yaml.Marshal
// gives the same structure, so a VM boots straight into its static address with no DHCP.

import { clip } from '../../settings/index.js';
import { TalosInputError } from './errors.js';
import { emitDocument, type YNode } from './goyaml/emitter.js';
import { goBool, goInt, goString } from './goyaml/represent.js';
import { type Cidr, type Ip, inSubnet, lastOf, networkOf, parseCidr, parseIp } from './ip.js';

/** A static network for one node, as given on the command line or in nodes.json. */
export interface StaticNetworkInput {
  addresses: readonly string[];
  gateways: readonly string[];
  /** The link name (ens18 on Proxmox virtio, enp1s0 on libvirt q35, eth0 with net.ifnames=0). */
  link?: string;
  /** The link's MAC address instead of its name. */
  linkMac?: string;
  hostname?: string;
  dns: readonly string[];
  timeServers: readonly string[];
  mtu?: number;
}

/** A validated static network. */
export interface StaticNetwork {
  link: string;
  addresses: readonly Cidr[];
  gateways: readonly Ip[];
  hostname?: string;
  domainname?: string;
  dns: readonly Ip[];
  timeServers: readonly string[];
  mtu: number;
}

// Talos's default route metric (network.DefaultRouteMetric); the nocloud platform doubles it for IPv6.
const ROUTE_METRIC = { 4: 1024, 6: 2048 } as const;

const HOST_LABEL = /^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/i;

/** Talos's udev gives every physical link the alternative name enx<MAC> (hack/udevd/99-default.link:
 * AlternativeNamesPolicy ... mac), and addresses and routes resolve links by alternative name. */
export function linkNameForMac(mac: string): string {
  if (!/^([0-9a-f]{2}[:-]){5}[0-9a-f]{2}$/i.test(mac))
    throw new TalosInputError(`--link-mac ${clip(mac)}: a MAC address such as 52:54:00:12:34:56 is expected`);
  return `enx${mac.replace(/[:-]/g, '').toLowerCase()}`;
}

function checkAddress(c: Cidr, raw: string): void {
  const what = `--address "${raw}"`;
  if (c.version === 4) {
    const first = c.value >> 24n;
    if (first === 0n || first === 127n || first >= 224n) throw new TalosInputError(`${what}: not a unicast host address`);
    if (c.prefix < 31 && (c.value === networkOf(c) || c.value === lastOf(c)))
      throw new TalosInputError(`${what}: that is the subnet's ${c.value === networkOf(c) ? 'network' : 'broadcast'} address, not a host`);
  } else {
    if (c.value === 0n || c.value === 1n) throw new TalosInputError(`${what}: the unspecified or loopback address is not a node address`);
    if (c.value >> 120n === 0xffn) throw new TalosInputError(`${what}: a multicast address is not a node address`);
  }
  if (c.prefix === 0) throw new TalosInputError(`${what}: a prefix of 0 puts the whole Internet on the link; give the subnet's prefix`);
}

/** Validates the flags; every refusal says why. */
export function resolveStaticNetwork(input: StaticNetworkInput): StaticNetwork {
  if (input.link && input.linkMac) throw new TalosInputError('give --link or --link-mac, not both');
  const link = input.linkMac ? linkNameForMac(input.linkMac) : input.link;
  if (!link)
    throw new TalosInputError(
      'say which link carries the address: --link NAME (ens18 for a Proxmox virtio NIC, enp1s0 on a libvirt q35 VM, eth0 with net.ifnames=0) or --link-mac MAC',
    );
  if (!/^[A-Za-z0-9_.-]{1,15}$/.test(link)) throw new TalosInputError(`--link ${clip(link)}: 1-15 letters, digits, _ . or - are expected`);
  if (input.addresses.length === 0) throw new TalosInputError('a static network needs at least one --address CIDR (e.g. 192.0.2.11/24)');
  const addresses = input.addresses.map((a) => parseCidr(a, '--address'));
  addresses.forEach((c, i) => {
    checkAddress(c, input.addresses[i] as string);
    const dup = addresses.findIndex((o) => o.version === c.version && o.value === c.value);
    if (dup !== i) throw new TalosInputError(`--address ${c.text} is given twice (${input.addresses[dup]} and ${input.addresses[i]})`);
  });
  const gateways: Ip[] = [];
  for (const g of input.gateways) {
    const ip = parseIp(g, '--gateway');
    if (gateways.some((o) => o.version === ip.version))
      throw new TalosInputError(`--gateway: one IPv${ip.version} gateway at most (got ${g} too)`);
    const own = addresses.filter((a) => a.version === ip.version);
    if (own.length === 0) throw new TalosInputError(`--gateway ${ip.text}: no IPv${ip.version} --address to reach it from`);
    if (own.some((a) => a.value === ip.value)) throw new TalosInputError(`--gateway ${ip.text} is the node's own address`);
    // IPv6 link-local gateways (fe80::/10) are reachable on the link whatever the subnet.
    const linkLocal = ip.version === 6 && ip.value >> 118n === 0x3fan;
    if (!linkLocal && !own.some((a) => inSubnet(a, ip)))
      throw new TalosInputError(
        `--gateway ${ip.text} is outside every IPv${ip.version} subnet of the node (${own.map((a) => `${a.text}/${a.prefix}`).join(', ')}): the node could not reach it; check the prefix length`,
      );
    gateways.push(ip);
  }
  const dns = input.dns.map((d) => parseIp(d, '--dns'));
  dns.forEach((d, i) => {
    if (dns.findIndex((o) => o.value === d.value && o.version === d.version) !== i)
      throw new TalosInputError(`--dns ${d.text} is given twice`);
  });
  for (const t of input.timeServers)
    if (!/^[A-Za-z0-9.:-]{1,253}$/.test(t)) throw new TalosInputError(`--time-server ${clip(t)}: a host name or address is expected`);
  let hostname: string | undefined;
  let domainname: string | undefined;
  if (input.hostname !== undefined) {
    const labels = input.hostname.split('.');
    if (input.hostname.length > 253 || !labels.every((l) => HOST_LABEL.test(l)))
      throw new TalosInputError(`--hostname ${clip(input.hostname)}: letters, digits and inner hyphens, labels of 1-63 separated by dots`);
    hostname = labels[0];
    if (labels.length > 1) domainname = labels.slice(1).join('.');
  }
  const mtu = input.mtu ?? 0;
  if (input.mtu !== undefined) {
    const min = addresses.some((a) => a.version === 6) ? 1280 : 576;
    if (!Number.isInteger(mtu) || mtu < min || mtu > 65535)
      throw new TalosInputError(`--mtu ${input.mtu}: ${min}-65535 is expected${min === 1280 ? ' (IPv6 needs at least 1280)' : ''}`);
  }
  return {
    link,
    addresses,
    gateways,
    ...(hostname ? { hostname } : {}),
    ...(domainname ? { domainname } : {}),
    dns,
    timeServers: [...input.timeServers],
    mtu,
  };
}

const platform = goString('platform');
const s = goString;
const seq = (items: YNode[]): YNode => ({ kind: 'seq', items });
const struct = (pairs: [string, YNode][]): YNode => ({ kind: 'map', pairs: pairs.map(([k, v]) => [goString(k), v]) });
const family = (v: 4 | 6) => s(v === 4 ? 'inet4' : 'inet6');

/** The PlatformConfigSpec tree for a static network (fields Talos always writes, in its order). */
export function platformConfigNode(n: StaticNetwork): YNode {
  return struct([
    [
      'addresses',
      seq(
        n.addresses.map((a) =>
          struct([
            ['address', s(`${a.text}/${a.prefix}`)],
            ['linkName', s(n.link)],
            ['family', family(a.version)],
            ['scope', s('global')],
            ['flags', s('permanent')],
            ['layer', platform],
          ]),
        ),
      ),
    ],
    [
      'links',
      seq([
        struct([
          ['name', s(n.link)],
          ['logical', goBool(false)],
          ['up', goBool(true)],
          ['mtu', goInt(n.mtu)],
          ['kind', s('')],
          ['type', s('ether')],
          ['layer', platform],
        ]),
      ]),
    ],
    [
      'routes',
      seq(
        n.gateways.map((g) =>
          struct([
            ['family', family(g.version)],
            ['dst', s('')],
            ['src', s('')],
            ['gateway', s(g.text)],
            ['outLinkName', s(n.link)],
            ['table', s('main')],
            ['priority', goInt(ROUTE_METRIC[g.version])],
            ['scope', s('global')],
            ['type', s('unicast')],
            ['flags', s('')],
            ['protocol', s('static')],
            ['layer', platform],
          ]),
        ),
      ),
    ],
    [
      'hostnames',
      seq(
        n.hostname
          ? [
              struct([
                ['hostname', s(n.hostname)],
                ['domainname', s(n.domainname ?? '')],
                ['layer', platform],
              ]),
            ]
          : [],
      ),
    ],
    [
      'resolvers',
      seq(
        n.dns.length
          ? [
              struct([
                ['dnsServers', seq(n.dns.map((d) => s(d.text)))],
                [
                  'nameServers',
                  seq(
                    n.dns.map((d) =>
                      struct([
                        ['addr', s(d.text)],
                        ['protocol', s('Do53')],
                        ['tlsServerName', s('')],
                      ]),
                    ),
                  ),
                ],
                ['layer', platform],
              ]),
            ]
          : [],
      ),
    ],
    [
      'timeServers',
      seq(
        n.timeServers.length
          ? [
              struct([
                ['timeServers', seq(n.timeServers.map(s))],
                ['layer', platform],
              ]),
            ]
          : [],
      ),
    ],
    ['operators', seq([])],
    ['externalIPs', seq([])],
  ]);
}

/** The META key 10 value: PlatformConfigSpec YAML. */
export function renderPlatformNetworkConfig(n: StaticNetwork): string {
  return emitDocument(platformConfigNode(n));
}

/** The META key that holds it. */
export const META_NETWORK_KEY = 10;
