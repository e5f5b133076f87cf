// The NIC info message (open-vm-tools lib/guestRpc/nicinfo.x, version 3): what vSphere shows as the
// VM's network (guest.net). Field order and bounds follow nicinfo.x; encoder and decoder mirror each other.
import { VmwareError } from './errors.js';
import { XdrReader, XdrWriter } from './xdr.js';

export const NICINFO_VERSION_3 = 3;
export const NICINFO_MAX_NICS = 16;
export const NICINFO_MAX_IPS = 2048;
export const NICINFO_MAX_ROUTES = 100;
export const NICINFO_MAC_LEN = 18;
export const INET_ADDRESS_MAX_LEN = 255;
export const DNSINFO_MAX_ADDRLEN = 255;
export const DNSINFO_MAX_SERVERS = 16;
export const DNSINFO_MAX_SUFFIXES = 10;
export const DHCP_MAX_CONFIG_SIZE = 16384;

/** InetAddressType: IAT_IPV4 1, IAT_IPV6 2. */
export const IAT = { ipv4: 1, ipv6: 2 } as const;
/** IpAddressStatus IAS_PREFERRED: the only status vmtoolsd sends. */
export const IAS_PREFERRED = 1;

export interface TypedIpAddress {
  type: number;
  address: Buffer;
}

export interface IpAddressEntry {
  address: TypedIpAddress;
  prefixLength: number;
  origin?: number;
  status?: number;
}

export interface InetCidrRouteEntry {
  dest: TypedIpAddress;
  prefixLength: number;
  nextHop?: TypedIpAddress;
  ifIndex: number;
  type: number;
  metric: number;
}

export interface DnsConfigInfo {
  hostName?: string;
  domainName?: string;
  servers: TypedIpAddress[];
  searchSuffixes: string[];
}

export interface WinsConfigInfo {
  primary: TypedIpAddress;
  secondary: TypedIpAddress;
}

export interface DhcpConfigInfo {
  enabled: boolean;
  settings: string;
}

interface ResolverState {
  dns?: DnsConfigInfo;
  wins?: WinsConfigInfo;
  dhcpv4?: DhcpConfigInfo;
  dhcpv6?: DhcpConfigInfo;
}

export interface GuestNicV3 extends ResolverState {
  macAddress: string;
  ips: IpAddressEntry[];
}

export interface NicInfoV3 extends ResolverState {
  nics: GuestNicV3[];
  routes: InetCidrRouteEntry[];
}

/** `union GuestNicProto switch (NicInfoVersion ver) { case NIC_INFO_V3: NicInfoV3 *nicInfoV3; }`. */
export interface GuestNicProto {
  version: 3;
  v3?: NicInfoV3;
}

function writeTyped(w: XdrWriter, a: TypedIpAddress): void {
  w.i32(a.type).opaque(a.address, INET_ADDRESS_MAX_LEN, 'an IP address');
}

function writeDns(w: XdrWriter, d: DnsConfigInfo): void {
  w.optional(d.hostName, (h) => w.string(h, DNSINFO_MAX_ADDRLEN, 'the DNS host name'));
  w.optional(d.domainName, (h) => w.string(h, DNSINFO_MAX_ADDRLEN, 'the DNS domain name'));
  w.array(d.servers, DNSINFO_MAX_SERVERS, 'DNS servers', (s) => writeTyped(w, s));
  w.array(d.searchSuffixes, DNSINFO_MAX_SUFFIXES, 'DNS search suffixes', (s) => w.string(s, DNSINFO_MAX_ADDRLEN, 'a DNS search suffix'));
}

function writeDhcp(w: XdrWriter, d: DhcpConfigInfo): void {
  w.bool(d.enabled).string(d.settings, DHCP_MAX_CONFIG_SIZE, 'DHCP settings');
}

function writeResolvers(w: XdrWriter, r: ResolverState): void {
  w.optional(r.dns, (d) => writeDns(w, d));
  w.optional(r.wins, (x) => {
    writeTyped(w, x.primary);
    writeTyped(w, x.secondary);
  });
  w.optional(r.dhcpv4, (d) => writeDhcp(w, d));
  w.optional(r.dhcpv6, (d) => writeDhcp(w, d));
}

function writeNic(w: XdrWriter, n: GuestNicV3): void {
  w.string(n.macAddress, NICINFO_MAC_LEN, 'a MAC address');
  w.array(n.ips, NICINFO_MAX_IPS, 'IP addresses on one NIC', (ip) => {
    writeTyped(w, ip.address);
    w.u32(ip.prefixLength);
    w.optional(ip.origin, (o) => w.i32(o));
    w.optional(ip.status, (s) => w.i32(s));
  });
  writeResolvers(w, n);
}

function writeRoute(w: XdrWriter, r: InetCidrRouteEntry): void {
  writeTyped(w, r.dest);
  w.u32(r.prefixLength);
  w.optional(r.nextHop, (h) => writeTyped(w, h));
  w.u32(r.ifIndex).i32(r.type).u32(r.metric);
}

/** Encodes a NIC info v3 message; throws VmwareError XDR_LIMIT when a list is over its nicinfo.x bound. */
export function encodeGuestNicProto(p: GuestNicProto): Buffer {
  const w = new XdrWriter();
  w.i32(p.version);
  w.optional(p.v3, (v) => {
    w.array(v.nics, NICINFO_MAX_NICS, 'NICs', (n) => writeNic(w, n));
    w.array(v.routes, NICINFO_MAX_ROUTES, 'routes', (r) => writeRoute(w, r));
    writeResolvers(w, v);
  });
  return w.bytes();
}

function readTyped(r: XdrReader): TypedIpAddress {
  return { type: r.i32('an address type'), address: r.opaque(INET_ADDRESS_MAX_LEN, 'an IP address') };
}

/** Sets a key only when defined, so decoded objects compare equal to the ones encoded. */
function put<T extends object, K extends keyof T>(o: T, k: K, v: T[K] | undefined): void {
  if (v !== undefined) o[k] = v;
}

function readDns(r: XdrReader): DnsConfigInfo {
  const d: DnsConfigInfo = { servers: [], searchSuffixes: [] };
  put(
    d,
    'hostName',
    r.optional('the DNS host name', () => r.string(DNSINFO_MAX_ADDRLEN, 'the DNS host name')),
  );
  put(
    d,
    'domainName',
    r.optional('the DNS domain name', () => r.string(DNSINFO_MAX_ADDRLEN, 'the DNS domain name')),
  );
  d.servers = r.array(DNSINFO_MAX_SERVERS, 'DNS servers', () => readTyped(r));
  d.searchSuffixes = r.array(DNSINFO_MAX_SUFFIXES, 'DNS search suffixes', () => r.string(DNSINFO_MAX_ADDRLEN, 'a suffix'));
  return d;
}

function readDhcp(r: XdrReader): DhcpConfigInfo {
  return { enabled: r.bool('DHCP enabled'), settings: r.string(DHCP_MAX_CONFIG_SIZE, 'DHCP settings') };
}

function readResolvers<T extends ResolverState>(r: XdrReader, o: T): T {
  put(
    o,
    'dns',
    r.optional('DNS config', () => readDns(r)),
  );
  put(
    o,
    'wins',
    r.optional('WINS config', () => ({ primary: readTyped(r), secondary: readTyped(r) })),
  );
  put(
    o,
    'dhcpv4',
    r.optional('DHCPv4 config', () => readDhcp(r)),
  );
  put(
    o,
    'dhcpv6',
    r.optional('DHCPv6 config', () => readDhcp(r)),
  );
  return o;
}

function readNic(r: XdrReader): GuestNicV3 {
  const macAddress = r.string(NICINFO_MAC_LEN, 'a MAC address');
  const ips = r.array(NICINFO_MAX_IPS, 'IP addresses', () => {
    const e: IpAddressEntry = { address: readTyped(r), prefixLength: r.u32('a prefix length') };
    put(
      e,
      'origin',
      r.optional('an address origin', () => r.i32()),
    );
    put(
      e,
      'status',
      r.optional('an address status', () => r.i32()),
    );
    return e;
  });
  return readResolvers<GuestNicV3>(r, { macAddress, ips });
}

function readRoute(r: XdrReader): InetCidrRouteEntry {
  const dest = readTyped(r);
  const prefixLength = r.u32('a route prefix');
  const nextHop = r.optional('a next hop', () => readTyped(r));
  const e: InetCidrRouteEntry = { dest, prefixLength, ifIndex: r.u32(), type: r.i32(), metric: r.u32() };
  put(e, 'nextHop', nextHop);
  return e;
}

/** Decodes what encodeGuestNicProto writes; throws VmwareError XDR_DECODE on anything else. */
export function decodeGuestNicProto(buf: Buffer): GuestNicProto {
  const r = new XdrReader(buf);
  const version = r.i32('the version');
  if (version !== NICINFO_VERSION_3) throw new VmwareError('XDR_DECODE', `NIC info version ${version} is not supported (only 3)`);
  const p: GuestNicProto = { version: 3 };
  const v3 = r.optional('NicInfoV3', () => {
    const nics = r.array(NICINFO_MAX_NICS, 'NICs', () => readNic(r));
    const routes = r.array(NICINFO_MAX_ROUTES, 'routes', () => readRoute(r));
    return readResolvers<NicInfoV3>(r, { nics, routes });
  });
  put(p, 'v3', v3);
  r.end();
  return p;
}

/** An IPv4 dotted quad or IPv6 text (with `::` and an optional embedded IPv4 tail) as nicinfo.x bytes. */
export function typedIpAddress(text: string): TypedIpAddress {
  const zoneless = text.split('%')[0] ?? text;
  const v4 = parseIpv4(zoneless);
  if (v4) return { type: IAT.ipv4, address: v4 };
  const v6 = parseIpv6(zoneless);
  if (v6) return { type: IAT.ipv6, address: v6 };
  throw new VmwareError('XDR_LIMIT', `${JSON.stringify(text)} is not an IP address`);
}

function parseIpv4(s: string): Buffer | undefined {
  const parts = s.split('.');
  if (parts.length !== 4 || !parts.every((p) => /^\d{1,3}$/.test(p) && Number(p) <= 255)) return undefined;
  return Buffer.from(parts.map(Number));
}

function parseIpv6(s: string): Buffer | undefined {
  const halves = s.split('::');
  if (halves.length > 2) return undefined;
  const groups = (h: string): number[] | undefined => {
    if (h === '') return [];
    const out: number[] = [];
    const parts = h.split(':');
    for (let i = 0; i < parts.length; i++) {
      const p = parts[i] ?? '';
      if (i === parts.length - 1 && p.includes('.')) {
        const v4 = parseIpv4(p);
        if (!v4) return undefined;
        out.push(v4.readUInt16BE(0), v4.readUInt16BE(2));
      } else if (/^[0-9a-fA-F]{1,4}$/.test(p)) out.push(Number.parseInt(p, 16));
      else return undefined;
    }
    return out;
  };
  const head = groups(halves[0] ?? '');
  const tail = halves.length === 2 ? groups(halves[1] ?? '') : [];
  if (!head || !tail) return undefined;
  const fill = 8 - head.length - tail.length;
  if ((halves.length === 2 && fill < 1) || (halves.length === 1 && fill !== 0)) return undefined;
  const all = [...head, ...new Array<number>(halves.length === 2 ? fill : 0).fill(0), ...tail];
  const b = Buffer.alloc(16);
  for (const [i, g] of all.entries()) b.writeUInt16BE(g, i * 2);
  return b;
}
