// The node's interfaces as NIC info v3: what vSphere lists under the VM's network. Interfaces a host
// cannot use are left out (loopback, no MAC, no address, CNI/container links), and at most 16 NICs go,
// the nicinfo.x bound (the VMX rejects the whole message otherwise).
import type { NetworkInterface } from '../../node/interfaces.js';
import {
  type GuestNicProto,
  type GuestNicV3,
  IAS_PREFERRED,
  NICINFO_MAX_IPS,
  NICINFO_MAX_NICS,
  typedIpAddress,
} from '../../protocol/vmware/nicinfo-xdr.js';

/** open-vm-tools' default exclude-nics (docker*, veth*, virbr*) plus the CNIs it added (antrea-*, cali*). */
export const DEFAULT_EXCLUDE_NICS: readonly string[] = ['docker*', 'veth*', 'virbr*', 'antrea-*', 'cali*'];

/** Shell-style patterns with `*` and `?`, as guestInfo's exclude-nics. */
function globToRegExp(glob: string): RegExp {
  const escaped = glob
    .replace(/[.+^${}()|[\]\\]/g, '\\$&')
    .replace(/\*/g, '.*')
    .replace(/\?/g, '.');
  return new RegExp(`^${escaped}$`);
}

export interface NicSelection {
  /** Name patterns to leave out, on top of interfaces the back end marks virtual. */
  exclude?: readonly string[];
  maxNics?: number;
}

/** Whether vSphere should see this interface. */
export function isReportedNic(i: NetworkInterface, exclude: readonly RegExp[]): boolean {
  if (i.virtual) return false;
  if (!i.hardwareAddress || /^(00:){5}00$/i.test(i.hardwareAddress)) return false;
  if (i.name === 'lo') return false;
  if (exclude.some((re) => re.test(i.name))) return false;
  return i.addresses.length > 0;
}

/** Builds the NIC info message; `dnsName` fills the global DNS host and domain. */
export function buildNicInfo(interfaces: readonly NetworkInterface[], dnsName: string | undefined, sel: NicSelection = {}): GuestNicProto {
  const exclude = (sel.exclude ?? DEFAULT_EXCLUDE_NICS).map(globToRegExp);
  const max = Math.min(sel.maxNics ?? NICINFO_MAX_NICS, NICINFO_MAX_NICS);
  const nics: GuestNicV3[] = [];
  for (const i of interfaces) {
    if (nics.length >= max) break;
    if (!isReportedNic(i, exclude)) continue;
    const ips = i.addresses.slice(0, NICINFO_MAX_IPS).flatMap((a) => {
      try {
        return [{ address: typedIpAddress(a.address), prefixLength: a.prefix, status: IAS_PREFERRED }];
      } catch {
        return [];
      }
    });
    nics.push({ macAddress: (i.hardwareAddress ?? '').toLowerCase(), ips });
  }
  const proto: GuestNicProto = { version: 3, v3: { nics, routes: [] } };
  if (dnsName && proto.v3) {
    const dot = dnsName.indexOf('.');
    proto.v3.dns = {
      hostName: dot < 0 ? dnsName : dnsName.slice(0, dot),
      ...(dot < 0 ? {} : { domainName: dnsName.slice(dot + 1) }),
      servers: [],
      searchSuffixes: [],
    };
  }
  return proto;
}

/** The address `Set_Option broadcastIP 1` publishes: the first IPv4 of the first reported NIC. */
export function primaryIpv4(
  interfaces: readonly NetworkInterface[],
  exclude: readonly string[] = DEFAULT_EXCLUDE_NICS,
): string | undefined {
  const res = exclude.map(globToRegExp);
  for (const i of interfaces) {
    if (!isReportedNic(i, res)) continue;
    const v4 = i.addresses.find((a) => a.family === 'ipv4' && !a.address.startsWith('127.'));
    if (v4) return v4.address;
  }
  return undefined;
}
