// The VMX double's own reader of the NIC info message (open-vm-tools lib/guestRpc/nicinfo.x,
// version 3), written from the .x file independently of src/protocol/vmware/nicinfo-xdr.ts, so a
// bug in the agent's encoder cannot be cancelled out by the same bug in the decoder the test uses.
// XDR: big-endian 4-byte units; strings and opaques are a length and bytes padded to 4; `*T` is an
// optional (a u32 0 or 1, then T); `T<n>` is a u32 count then the items.

/** An address as vSphere would show it. */
export interface SeenAddress {
  family: 'ipv4' | 'ipv6';
  text: string;
  prefix: number;
  origin?: number;
  status?: number;
}

export interface SeenNic {
  mac: string;
  ips: SeenAddress[];
  dnsHost?: string;
}

export interface SeenNicInfo {
  nics: SeenNic[];
  routes: { dest: string; prefix: number; nextHop?: string; ifIndex: number; type: number; metric: number }[];
  dnsHost?: string;
  dnsDomain?: string;
  dnsServers: string[];
  searchDomains: string[];
}

class Cursor {
  private at = 0;
  constructor(private readonly b: Buffer) {}

  u32(): number {
    if (this.at + 4 > this.b.length) throw new Error(`truncated at byte ${this.at}`);
    const v = this.b.readUInt32BE(this.at);
    this.at += 4;
    return v;
  }

  i32(): number {
    return this.u32() | 0;
  }

  bytes(max: number, what: string): Buffer {
    const n = this.u32();
    if (n > max) throw new Error(`${what}: ${n} bytes, at most ${max}`);
    const padded = (n + 3) & ~3;
    if (this.at + padded > this.b.length) throw new Error(`${what}: truncated`);
    const out = this.b.subarray(this.at, this.at + n);
    this.at += padded;
    return out;
  }

  count(max: number, what: string): number {
    const n = this.u32();
    if (n > max) throw new Error(`${what}: ${n} entries, at most ${max}`);
    return n;
  }

  maybe<T>(read: () => T): T | undefined {
    const flag = this.u32();
    if (flag > 1) throw new Error(`optional flag ${flag}`);
    return flag === 1 ? read() : undefined;
  }

  get done(): boolean {
    return this.at === this.b.length;
  }
}

function address(c: Cursor): { family: 'ipv4' | 'ipv6'; text: string } {
  const type = c.i32();
  const raw = c.bytes(255, 'address');
  if (type === 1 && raw.length === 4) return { family: 'ipv4', text: [...raw].join('.') };
  if (type === 2 && raw.length === 16) {
    const groups: string[] = [];
    for (let i = 0; i < 16; i += 2) groups.push(raw.readUInt16BE(i).toString(16));
    return { family: 'ipv6', text: groups.join(':') };
  }
  throw new Error(`address type ${type} with ${raw.length} bytes`);
}

function dnsConfig(c: Cursor) {
  const host = c.maybe(() => c.bytes(255, 'DNS host').toString('utf8'));
  const domain = c.maybe(() => c.bytes(255, 'DNS domain').toString('utf8'));
  const servers: string[] = [];
  for (let n = c.count(16, 'DNS servers'); n > 0; n--) servers.push(address(c).text);
  const search: string[] = [];
  for (let n = c.count(10, 'search domains'); n > 0; n--) search.push(c.bytes(255, 'search domain').toString('utf8'));
  return { host, domain, servers, search };
}

/** WINS, DHCPv4 and DHCPv6 (read, not kept: the agent sends none, and the tests check that the message parses). */
function otherResolvers(c: Cursor): void {
  c.maybe(() => {
    address(c);
    address(c);
  });
  for (let k = 0; k < 2; k++)
    c.maybe(() => {
      c.u32();
      c.bytes(16384, 'DHCP settings');
    });
}

/** The NIC info message as the VMX double sees it; throws on anything nicinfo.x does not allow. */
export function readNicInfo(message: Buffer): SeenNicInfo {
  const c = new Cursor(message);
  const version = c.i32();
  if (version !== 3) throw new Error(`NIC info version ${version}, expected 3`);
  const body = c.maybe(() => {
    const nics: SeenNic[] = [];
    for (let n = c.count(16, 'NICs'); n > 0; n--) {
      const mac = c.bytes(18, 'MAC').toString('latin1');
      const ips: SeenAddress[] = [];
      for (let k = c.count(2048, 'IPs'); k > 0; k--) {
        const a = address(c);
        const prefix = c.u32();
        const origin = c.maybe(() => c.i32());
        const status = c.maybe(() => c.i32());
        ips.push({ ...a, prefix, ...(origin !== undefined ? { origin } : {}), ...(status !== undefined ? { status } : {}) });
      }
      const dns = c.maybe(() => dnsConfig(c));
      otherResolvers(c);
      nics.push({ mac, ips, ...(dns?.host !== undefined ? { dnsHost: dns.host } : {}) });
    }
    const routes: SeenNicInfo['routes'] = [];
    for (let n = c.count(100, 'routes'); n > 0; n--) {
      const dest = address(c).text;
      const prefix = c.u32();
      const nextHop = c.maybe(() => address(c).text);
      routes.push({ dest, prefix, ...(nextHop !== undefined ? { nextHop } : {}), ifIndex: c.u32(), type: c.i32(), metric: c.u32() });
    }
    const dns = c.maybe(() => dnsConfig(c));
    otherResolvers(c);
    return {
      nics,
      routes,
      ...(dns?.host !== undefined ? { dnsHost: dns.host } : {}),
      ...(dns?.domain !== undefined ? { dnsDomain: dns.domain } : {}),
      dnsServers: dns?.servers ?? [],
      searchDomains: dns?.search ?? [],
    };
  });
  if (!body) throw new Error('NIC info without its body');
  if (!c.done) throw new Error('bytes left after the NIC info');
  return body;
}
