// COSI resources read from Talos (network, hostname, mounts): their yaml_spec parsed into the
// node interfaces' shapes. Field names are the yaml tags of siderolabs/talos
// pkg/machinery/resources/{network,block}.
import { parse } from 'yaml';
import { genericError } from '../../protocol/qga/errors.js';
import type { IpAddress, NetworkInterface } from '../interfaces.js';
import { isVirtualLink } from '../linux/virtual-links.js';
import type { CosiResource } from './messages.js';

/** The resources the agent reads: namespace and type as Talos registers them. */
export const RESOURCES = {
  addressStatus: { namespace: 'network', type: 'AddressStatuses.net.talos.dev' },
  linkStatus: { namespace: 'network', type: 'LinkStatuses.net.talos.dev' },
  hostnameStatus: { namespace: 'network', type: 'HostnameStatuses.net.talos.dev', id: 'hostname' },
  mountStatus: { namespace: 'runtime', type: 'MountStatuses.block.talos.dev' },
} as const;

type Spec = Record<string, unknown>;

/** Parses one resource's yaml_spec; a spec that is not a mapping is a server we do not understand. */
export function specOf(r: CosiResource): Spec {
  let doc: unknown;
  try {
    doc = parse(r.yamlSpec);
  } catch (err) {
    throw genericError(`Talos resource ${r.type}/${r.id}: yaml_spec does not parse: ${(err as Error).message}`, 'TALOS_DECODE');
  }
  if (doc === null || typeof doc !== 'object' || Array.isArray(doc))
    throw genericError(`Talos resource ${r.type}/${r.id}: yaml_spec is not a mapping`, 'TALOS_DECODE');
  return doc as Spec;
}

const str = (v: unknown): string => (typeof v === 'string' ? v : v === undefined || v === null ? '' : String(v));
const num = (v: unknown): number => (typeof v === 'number' ? v : Number.parseInt(str(v), 10) || 0);

export interface LinkStatus {
  name: string;
  index: number;
  /** Link type as Talos names it: ether, loopback, ipip, sit, tunnel6, void, ... */
  type: string;
  /** rtnetlink kind: '' for a plain NIC, else bond, vlan, bridge, veth, vxlan, wireguard, ... */
  kind: string;
  hardwareAddr: string;
}

export function parseLinkStatus(r: CosiResource): LinkStatus {
  const s = specOf(r);
  return { name: r.id, index: num(s.index), type: str(s.type), kind: str(s.kind), hardwareAddr: str(s.hardwareAddr).toLowerCase() };
}

export interface AddressStatus {
  linkName: string;
  address: IpAddress;
}

/** AddressStatus: `address` is a CIDR prefix (10.5.0.2/24), `family` inet4 or inet6. */
export function parseAddressStatus(r: CosiResource): AddressStatus | undefined {
  const s = specOf(r);
  const cidr = str(s.address);
  const slash = cidr.lastIndexOf('/');
  if (slash <= 0) return undefined;
  const address = cidr.slice(0, slash);
  const family = str(s.family) === 'inet6' || address.includes(':') ? 'ipv6' : 'ipv4';
  return { linkName: str(s.linkName), address: { address, family, prefix: num(cidr.slice(slash + 1)) } };
}

/** HostnameStatus { hostname, domainname }: the short name, as gethostname(2) gives qemu-ga. */
export function parseHostnameStatus(r: CosiResource): string {
  return str(specOf(r).hostname);
}

/** block MountStatus { target, filesystem }: the one place Talos tells a mount's filesystem type. */
export function parseMountStatus(r: CosiResource): { target: string; filesystem: string } {
  const s = specOf(r);
  return { target: str(s.target), filesystem: str(s.filesystem) };
}

/**
 * rtnetlink kinds that are always plumbing (overlays, tunnels, pod veths, dummies for service IPs),
 * never where a hypervisor should look for the node's address. bond, vlan and bridge are not here:
 * on Talos they come from the machine config and carry the node's real IPs.
 */
const VIRTUAL_KINDS = new Set([
  'veth',
  'vxlan',
  'geneve',
  'ipip',
  'sit',
  'ip6tnl',
  'gre',
  'gretap',
  'ip6gre',
  'ip6gretap',
  'erspan',
  'ip6erspan',
  'vti',
  'vti6',
  'ifb',
  'dummy',
  'nlmon',
]);
/** Link types that only tunnels and queueing pseudo-devices have (teql0 is void, ip6tnl0 tunnel6). */
const VIRTUAL_TYPES = new Set(['void', 'ipip', 'tunnel6', 'sit', 'gre', 'ip6gre', 'none']);

/** Talos's own test (LinkStatusSpec.Physical): an Ethernet link without a kind. */
export function isPhysical(l: LinkStatus): boolean {
  return l.type === 'ether' && l.kind === '';
}

/** CNI/overlay/tunnel links, hidden by hide-virtual-interfaces; KubeSpan's WireGuard link is the cluster overlay. */
export function isVirtual(l: LinkStatus): boolean {
  return isVirtualLink(l.name) || VIRTUAL_KINDS.has(l.kind) || VIRTUAL_TYPES.has(l.type) || l.name === 'kubespan';
}

/** A MAC as QGA shows it; tunnels' 4- and 16-byte "addresses" are not MACs and are left out. */
function mac(hw: string): string | undefined {
  return /^([0-9a-f]{2}:){5}[0-9a-f]{2}$/.test(hw) ? hw : undefined;
}

function rank(l: LinkStatus): number {
  if (isPhysical(l)) return 0;
  if (isVirtual(l)) return 2;
  return 1;
}

/**
 * The interface list: physical NICs first, then the other node links (lo, bonds, VLANs, bridges),
 * then virtual plumbing (flagged, so hide-virtual-interfaces leaves it out), each in ifindex order.
 * Addresses on a link missing from LinkStatus (a race between the two lists) still show, by name.
 */
export function buildInterfaces(links: LinkStatus[], addresses: AddressStatus[]): NetworkInterface[] {
  const byLink = new Map<string, IpAddress[]>();
  for (const a of addresses) {
    const list = byLink.get(a.linkName) ?? [];
    list.push(a.address);
    byLink.set(a.linkName, list);
  }
  const sorted = [...links].sort((a, b) => rank(a) - rank(b) || a.index - b.index);
  const out: NetworkInterface[] = sorted.map((l) => {
    const i: NetworkInterface = { name: l.name, addresses: byLink.get(l.name) ?? [] };
    const hw = mac(l.hardwareAddr);
    if (hw !== undefined) i.hardwareAddress = hw;
    if (isVirtual(l)) i.virtual = true;
    byLink.delete(l.name);
    return i;
  });
  for (const [name, addrs] of byLink) {
    const i: NetworkInterface = { name, addresses: addrs };
    if (isVirtualLink(name) || name === 'kubespan') i.virtual = true;
    out.push(i);
  }
  return out;
}
