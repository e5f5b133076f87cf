// guest-network-get-interfaces for Linux without netlink: links from /sys/class/net in ifindex order
// (the order getifaddrs lists them), addresses from os.networkInterfaces() (getifaddrs through libuv)
// completed from /proc for links libuv skips, MACs from sysfs, counters from /proc/net/dev — shaped
// as qemu-ga 7.2 shapes them.
import os, { endianness } from 'node:os';
import path from 'node:path';
import type { IpAddress, Network, NetworkInterface } from '../interfaces.js';
import { readdirRaw, readTextOrUndefined } from './fs-raw.js';
import { ipv4OfLinks, macFromSysfs, parseFibTrieLocal, parseIfInet6, parseNetDev, parseRoutes } from './net-proc.js';
import { isVirtualLink } from './virtual-links.js';

/** Test hook: the address source (os.networkInterfaces by default). */
export type AddressSource = () => NodeJS.Dict<os.NetworkInterfaceInfo[]>;

/** Network over a root directory ('/' in production, a fixture tree in tests). */
export class LinuxNetwork implements Network {
  constructor(
    private readonly root = '/',
    private readonly addressSource: AddressSource = os.networkInterfaces,
  ) {}

  private p(rel: string): string {
    return path.join(this.root, rel);
  }

  /** Links in getifaddrs order: by ifindex (the kernel's link dump order). */
  private links(): string[] {
    let names: string[];
    try {
      names = readdirRaw(this.p('sys/class/net')).map((e) => e.name);
    } catch {
      return [];
    }
    const withIndex = names.map((name) => ({
      name,
      index: Number.parseInt(readTextOrUndefined(this.p(`sys/class/net/${name}/ifindex`)) ?? '', 10),
    }));
    withIndex.sort((a, b) => (Number.isNaN(a.index) ? 1e12 : a.index) - (Number.isNaN(b.index) ? 1e12 : b.index));
    return withIndex.map((l) => l.name);
  }

  async interfaces(): Promise<NetworkInterface[]> {
    const byName = new Map<string, NetworkInterface>();
    const add = (name: string): NetworkInterface => {
      let i = byName.get(name);
      if (!i) {
        i = { name, addresses: [] };
        // SIOCGIFHWADDR strips an alias label (eth0:1 -> eth0); a vanished link has no MAC.
        const mac = readTextOrUndefined(this.p(`sys/class/net/${name.split(':')[0]}/address`));
        if (mac !== undefined) i.hardwareAddress = macFromSysfs(mac);
        if (isVirtualLink(name)) i.virtual = true;
        byName.set(name, i);
      }
      return i;
    };
    for (const name of this.links()) add(name);

    // getifaddrs lists all IPv4 addresses, then all IPv6 ones.
    const addrs = this.addressSource();
    const seen = new Set<string>();
    for (const family of ['IPv4', 'IPv6'] as const) {
      for (const [name, list] of Object.entries(addrs)) {
        for (const a of list ?? []) {
          if (a.family !== family) continue;
          const prefix = Number((a.cidr ?? '').split('/')[1] ?? Number.NaN);
          const ip: IpAddress = {
            address: a.address,
            family: family === 'IPv4' ? 'ipv4' : 'ipv6',
            prefix: Number.isFinite(prefix) ? prefix : netmaskBits(a.netmask),
          };
          add(name).addresses.push(ip);
          seen.add(name);
        }
      }
    }
    // libuv skips links that are not up and running (no carrier: an idle docker0/cni0, an unplugged NIC).
    // Their IPv4 addresses are recovered from the FIB (local addresses and connected routes), their IPv6
    // ones from /proc/net/if_inet6. Links that are administratively down have no IPv4 trace there.
    const hidden = new Set([...byName.keys()].filter((n) => !seen.has(n)));
    if (hidden.size > 0) {
      const known = new Set(Object.values(addrs).flatMap((l) => (l ?? []).map((a) => a.address)));
      const locals = parseFibTrieLocal(readTextOrUndefined(this.p('proc/net/fib_trie')) ?? '').filter((a) => !known.has(a));
      const routes = parseRoutes(readTextOrUndefined(this.p('proc/net/route')) ?? '', endianness() === 'LE');
      for (const [name, list] of ipv4OfLinks(locals, routes, hidden)) {
        for (const a of list) add(name).addresses.push({ address: a.address, family: 'ipv4', prefix: a.prefix });
      }
    }
    const inet6 = parseIfInet6(readTextOrUndefined(this.p('proc/net/if_inet6')) ?? '');
    for (const e of inet6) {
      if (seen.has(e.ifname)) continue;
      add(e.ifname).addresses.push({ address: e.address, family: 'ipv6', prefix: e.prefix });
    }

    const stats = parseNetDev(readTextOrUndefined(this.p('proc/net/dev')) ?? '');
    const out = [...byName.values()];
    for (const i of out) {
      // qemu-ga looks counters up only for interfaces that have an address.
      if (i.addresses.length === 0) continue;
      const s = stats.get(i.name);
      if (s) i.stats = s;
    }
    return out;
  }
}

/** Prefix length of a dotted or colon netmask (count of set bits). */
export function netmaskBits(mask: string): number {
  let bits = 0;
  if (mask.includes('.')) {
    for (const part of mask.split('.')) bits += popcount(Number(part) & 255);
    return bits;
  }
  const groups = mask.split('::');
  for (const g of groups.join(':').split(':')) if (g) bits += popcount(Number.parseInt(g, 16) & 0xffff);
  return bits;
}

function popcount(n: number): number {
  let c = 0;
  for (let v = n; v; v &= v - 1) c++;
  return c;
}
