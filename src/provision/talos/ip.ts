// Addresses as numbers, for the checks a static network needs (is the gateway inside the subnet, is an
// address the subnet's network or broadcast address, are two addresses the same) and the canonical text
// Talos writes (Go's net/netip: dotted quad; RFC 5952 for IPv6, lower case, longest zero run as ::).
import { isIP } from 'node:net';
import { clip } from '../../settings/index.js';
import { TalosInputError } from './errors.js';

/** A parsed address: its family, its value, and Go's spelling of it. */
export interface Ip {
  version: 4 | 6;
  value: bigint;
  text: string;
}

/** An address with its prefix length, as in 192.0.2.10/24. */
export interface Cidr extends Ip {
  prefix: number;
}

function v6Groups(s: string): number[] {
  let text = s;
  // A trailing dotted quad (::ffff:1.2.3.4) becomes two groups.
  const quad = /(\d+)\.(\d+)\.(\d+)\.(\d+)$/.exec(text);
  if (quad) {
    const [a, b, c, d] = quad.slice(1).map(Number) as [number, number, number, number];
    text = `${text.slice(0, quad.index)}${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`;
  }
  const [head, tail] = text.includes('::') ? (text.split('::') as [string, string]) : [text, undefined];
  const h = head ? head.split(':').map((g) => Number.parseInt(g, 16)) : [];
  if (tail === undefined) return h;
  const t = tail ? tail.split(':').map((g) => Number.parseInt(g, 16)) : [];
  return [...h, ...new Array(8 - h.length - t.length).fill(0), ...t];
}

/** RFC 5952 text for 8 groups (what Go's netip.Addr.String writes). */
function v6Text(groups: readonly number[]): string {
  let best = -1;
  let bestLen = 1;
  for (let i = 0; i < 8; ) {
    if (groups[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && groups[j] === 0) j++;
    if (j - i > bestLen) {
      best = i;
      bestLen = j - i;
    }
    i = j;
  }
  const hex = groups.map((g) => g.toString(16));
  if (best < 0) return hex.join(':');
  return `${hex.slice(0, best).join(':')}::${hex.slice(best + bestLen).join(':')}`;
}

/** Parses an IP address; `what` names the flag or field in the message. */
export function parseIp(s: string, what: string): Ip {
  const version = isIP(s);
  if (version === 4) {
    const parts = s.split('.').map(Number);
    return { version, value: parts.reduce((acc, p) => (acc << 8n) | BigInt(p), 0n), text: parts.join('.') };
  }
  if (version === 6 && !s.includes('%')) {
    const groups = v6Groups(s.toLowerCase());
    if (groups.length === 8 && groups.every((g) => Number.isInteger(g) && g >= 0 && g <= 0xffff)) {
      if (groups.slice(0, 5).every((g) => g === 0) && groups[5] === 0xffff)
        throw new TalosInputError(`${what} ${clip(s)}: an IPv4-mapped IPv6 address is not a node address; give the IPv4 address`);
      return { version, value: groups.reduce((acc, g) => (acc << 16n) | BigInt(g), 0n), text: v6Text(groups) };
    }
  }
  throw new TalosInputError(`${what} ${clip(s)}: an IP address is expected (e.g. 192.0.2.10 or 2001:db8::10)`);
}

/** Parses ADDRESS/PREFIX. */
export function parseCidr(s: string, what: string): Cidr {
  const m = /^([^/]+)\/(\d{1,3})$/.exec(s);
  if (!m) throw new TalosInputError(`${what} ${clip(s)}: an address with its prefix length is expected, e.g. 192.0.2.10/24`);
  const ip = parseIp(m[1] as string, what);
  const prefix = Number(m[2]);
  const bits = ip.version === 4 ? 32 : 128;
  if (prefix > bits) throw new TalosInputError(`${what} ${clip(s)}: an IPv${ip.version} prefix is 0-${bits}`);
  return { ...ip, prefix };
}

const bitsOf = (v: 4 | 6) => (v === 4 ? 32 : 128);

/** The network part of an address (the address with the host bits cleared). */
export function networkOf(c: Cidr): bigint {
  const host = bitsOf(c.version) - c.prefix;
  return (c.value >> BigInt(host)) << BigInt(host);
}

/** Whether `ip` lies inside the subnet of `c`. */
export function inSubnet(c: Cidr, ip: Ip): boolean {
  return c.version === ip.version && networkOf(c) === networkOf({ ...ip, prefix: c.prefix });
}

/** The subnet's last address (IPv4 broadcast). */
export function lastOf(c: Cidr): bigint {
  const host = BigInt(bitsOf(c.version) - c.prefix);
  return networkOf(c) | ((1n << host) - 1n);
}
