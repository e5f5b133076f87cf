// Parsers for the network facts qemu-ga gets from getifaddrs/ioctl, read from /proc and /sys instead:
// /proc/net/dev counters, /proc/net/if_inet6 addresses, /sys/class/net/<if>/address MACs.
import type { InterfaceStats } from '../interfaces.js';

function int(tok: string | undefined): number | bigint {
  const v = BigInt(tok ?? '0');
  return v <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(v) : v;
}

/** Counters per interface name from /proc/net/dev (only lines with all 16 counters, as qemu-ga requires). */
export function parseNetDev(text: string): Map<string, InterfaceStats> {
  const out = new Map<string, InterfaceStats>();
  for (const raw of text.split('\n')) {
    const line = raw.trimStart();
    const colon = line.indexOf(':');
    if (colon < 0) continue;
    const f = line
      .slice(colon + 1)
      .trim()
      .split(/\s+/);
    if (f.length < 16 || !f.slice(0, 16).every((t) => /^-?\d+$/.test(t))) continue;
    const name = line.slice(0, colon);
    if (out.has(name)) continue; // qemu-ga takes the first matching line
    out.set(name, {
      rxBytes: int(f[0]),
      rxPackets: int(f[1]),
      rxErrs: int(f[2]),
      rxDropped: int(f[3]),
      txBytes: int(f[8]),
      txPackets: int(f[9]),
      txErrs: int(f[10]),
      txDropped: int(f[11]),
    });
  }
  return out;
}

/** One line of /proc/net/if_inet6. */
export interface Inet6Entry {
  ifname: string;
  ifindex: number;
  address: string;
  prefix: number;
}

/** All IPv6 addresses of /proc/net/if_inet6 (every link, up or down), in file order. */
export function parseIfInet6(text: string): Inet6Entry[] {
  const out: Inet6Entry[] = [];
  for (const line of text.split('\n')) {
    const f = line.trim().split(/\s+/);
    if (f.length < 6 || !/^[0-9a-f]{32}$/i.test(f[0] as string)) continue;
    out.push({
      address: formatIpv6(f[0] as string),
      ifindex: Number.parseInt(f[1] as string, 16),
      prefix: Number.parseInt(f[2] as string, 16),
      ifname: f[5] as string,
    });
  }
  return out;
}

/** Formats 32 hex digits as inet_ntop(AF_INET6) does (glibc): longest zero run of 2+ groups as "::", embedded IPv4 for ::ffff:a.b.c.d and ::a.b.c.d. */
export function formatIpv6(hex: string): string {
  const w: number[] = [];
  for (let i = 0; i < 8; i++) w.push(Number.parseInt(hex.slice(i * 4, i * 4 + 4), 16));
  let bestBase = -1;
  let bestLen = 0;
  for (let i = 0; i < 8; ) {
    if (w[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && w[j] === 0) j++;
    if (j - i > bestLen) {
      bestBase = i;
      bestLen = j - i;
    }
    i = j;
  }
  if (bestLen < 2) bestBase = -1;
  let out = '';
  for (let i = 0; i < 8; i++) {
    if (bestBase >= 0 && i >= bestBase && i < bestBase + bestLen) {
      if (i === bestBase) out += ':';
      continue;
    }
    if (i !== 0) out += ':';
    if (i === 6 && bestBase === 0 && (bestLen === 6 || (bestLen === 5 && w[5] === 0xffff))) {
      const a = w[6] as number;
      const b = w[7] as number;
      out += `${a >> 8}.${a & 255}.${b >> 8}.${b & 255}`;
      break;
    }
    out += (w[i] as number).toString(16);
  }
  if (bestBase >= 0 && bestBase + bestLen === 8) out += ':';
  return out;
}

/** The MAC qemu-ga prints for a link: SIOCGIFHWADDR's first 6 bytes, zero-padded (so lo and tunnels give 00:00:00:00:00:00). */
export function macFromSysfs(text: string): string {
  const bytes = text
    .trim()
    .split(':')
    .filter((x) => x !== '')
    .map((x) => Number.parseInt(x, 16) || 0);
  const six: number[] = [];
  for (let i = 0; i < 6; i++) six.push(bytes[i] ?? 0);
  return six.map((b) => b.toString(16).padStart(2, '0')).join(':');
}

/** The host's own IPv4 addresses: the "/32 host LOCAL" leaves of /proc/net/fib_trie (links that are up, with or without carrier). */
export function parseFibTrieLocal(text: string): string[] {
  const out = new Set<string>();
  let leaf = '';
  for (const line of text.split('\n')) {
    const m = /\|-- (\d+\.\d+\.\d+\.\d+)$/.exec(line.trimEnd());
    if (m) {
      leaf = m[1] as string;
      continue;
    }
    if (leaf && /^\s*\/32 host LOCAL/.test(line)) out.add(leaf);
  }
  return [...out];
}

/** One main-table route of /proc/net/route, addresses as host-order integers. */
export interface Ipv4Route {
  iface: string;
  destination: number;
  gateway: number;
  mask: number;
}

/** Reads /proc/net/route; its hex words are the kernel's big-endian values printed as native integers. */
export function parseRoutes(text: string, littleEndian: boolean): Ipv4Route[] {
  const word = (hex: string | undefined) => {
    const v = Number.parseInt(hex ?? '', 16) >>> 0;
    return littleEndian ? (((v & 255) << 24) | (((v >>> 8) & 255) << 16) | (((v >>> 16) & 255) << 8) | (v >>> 24)) >>> 0 : v;
  };
  const out: Ipv4Route[] = [];
  for (const line of text.split('\n').slice(1)) {
    const f = line.trim().split(/\s+/);
    if (f.length < 8) continue;
    out.push({ iface: f[0] as string, destination: word(f[1]), gateway: word(f[2]), mask: word(f[7]) });
  }
  return out;
}

/** A dotted IPv4 address as a host-order integer. */
export function ipv4ToInt(a: string): number {
  return a.split('.').reduce((acc, p) => ((acc << 8) | (Number(p) & 255)) >>> 0, 0);
}

/**
 * IPv4 addresses of the given links, which os.networkInterfaces() leaves out because they are not
 * running (no carrier): each local address is given to the one link among them with a connected
 * route covering it, with that route's prefix. Ambiguous or route-less addresses are left out.
 */
export function ipv4OfLinks(locals: string[], routes: Ipv4Route[], links: Set<string>): Map<string, { address: string; prefix: number }[]> {
  const out = new Map<string, { address: string; prefix: number }[]>();
  for (const address of locals) {
    const a = ipv4ToInt(address);
    let best: Ipv4Route[] = [];
    let bestBits = -1;
    for (const r of routes) {
      if (r.gateway !== 0 || !links.has(r.iface) || (a & r.mask) >>> 0 !== r.destination) continue;
      const bits = popcount32(r.mask);
      if (bits > bestBits) {
        best = [r];
        bestBits = bits;
      } else if (bits === bestBits && !best.some((b) => b.iface === r.iface)) best.push(r);
    }
    if (best.length !== 1 || bestBits <= 0) continue;
    const iface = (best[0] as Ipv4Route).iface;
    const list = out.get(iface) ?? [];
    list.push({ address, prefix: bestBits });
    out.set(iface, list);
  }
  return out;
}

function popcount32(n: number): number {
  let c = 0;
  for (let v = n >>> 0; v; v = (v & (v - 1)) >>> 0) c++;
  return c;
}
