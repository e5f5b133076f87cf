// RPCI: the requests the guest sends the VMX, and the `1 `/`0 ` replies (open-vm-tools rpcout.c).
import { VmwareError } from './errors.js';

/** TOOLS_VERSION_UNMANAGED (vm_tools_version.h): tools the VMX must not try to upgrade. */
export const TOOLS_VERSION_UNMANAGED = 0x7fffffff;
/**
 * TOOLS_TYPE_OVT of vm_tools_version.h (UNKNOWN 0, MSI 1, TARBALL 2, OSP 3, OVT 4): tools shipped with the
 * OS, which is what an agent in the node image is. Read from memory of the header, not a copy: if a host
 * refused it, the caller falls back to `tools.set.version` as vmtoolsd does.
 */
export const TOOLS_TYPE_OVT = 4;

/** GuestInfoType of guestInfo.h: the number after `SetGuestInfo `. */
export const GUEST_INFO = {
  dnsName: 1,
  ipAddress: 2,
  diskFreeSpace: 3,
  buildNumber: 4,
  osNameFull: 5,
  osName: 6,
  uptime: 7,
  memory: 8,
  ipAddressV2: 9,
  ipAddressV3: 10,
  osDetailed: 11,
} as const;

/** `SetGuestInfo  <kind> <payload>`: two spaces, as guestInfoServer.c writes it (an empty key). */
export function setGuestInfo(kind: number, payload: Buffer | string): Buffer {
  const body = typeof payload === 'string' ? Buffer.from(payload, 'utf8') : payload;
  return Buffer.concat([Buffer.from(`SetGuestInfo  ${kind} `, 'latin1'), body]);
}

/** `tools.os.statechange.status <1|0> <state>\0`: did the power operation go through. */
export function stateChangeStatus(ok: boolean, state: number): Buffer {
  return Buffer.from(`tools.os.statechange.status ${ok ? 1 : 0} ${state}\0`, 'latin1');
}

export const CAPABILITY = {
  unifiedLoop: (app: string) => Buffer.from(`vmx.capability.unified_loop ${app}`, 'latin1'),
  statechange: Buffer.from('tools.capability.statechange ', 'latin1'),
  softpowerop: Buffer.from('tools.capability.softpowerop_retry ', 'latin1'),
} as const;

export function setVersion(version = TOOLS_VERSION_UNMANAGED): Buffer {
  return Buffer.from(`tools.set.version ${version}`, 'latin1');
}

export function setVersionType(version: number, type: number): Buffer {
  return Buffer.from(`tools.set.versiontype ${version} ${type}`, 'latin1');
}

export function infoSet(key: string, value: string): Buffer {
  return Buffer.from(`info-set guestinfo.${key} ${value}`, 'utf8');
}

/** An RPCI reply: `1 <payload>` succeeded, `0 <text>` was refused. Anything else is a protocol error. */
export function parseRpciReply(request: Buffer, reply: Buffer): Buffer {
  if (reply.length >= 2 && reply[1] === 0x20 && reply[0] === 0x31) return reply.subarray(2);
  const what = JSON.stringify(request.subarray(0, 60).toString('latin1'));
  if (reply.length >= 2 && reply[1] === 0x20 && reply[0] === 0x30)
    throw new VmwareError('RPCI_REFUSED', `the VMX refused ${what}: ${JSON.stringify(reply.subarray(2).toString('latin1'))}`);
  throw new VmwareError(
    'RPCI_BAD_REPLY',
    `the VMX answered ${what} with ${JSON.stringify(reply.toString('latin1'))}, neither "1 " nor "0 "`,
  );
}
