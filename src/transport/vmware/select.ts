// Which way to reach the VMX: detection through CPUID first (the backdoor instruction faults anywhere
// but VMware, and vsock to CID 0 only means the VMX there), then vsock, then the backdoor, the order
// open-vm-tools falls back in.
import { type BackdoorCall, BackdoorChannel } from './backdoor.js';
import { type VsockConnect, vsockChannels } from './vsock.js';

/** What the transports need from the native addon. */
export interface VmwareNative {
  hypervisorVendor(): string | null;
  backdoorCall: BackdoorCall;
  vsockConnect: VsockConnect;
}

export type VmwareTransportMode = 'auto' | 'backdoor' | 'vsock';

/** The shape of protocol/vmware's Channel, restated: transport/ does not import protocol/. */
export interface MessageChannel {
  start(): Promise<void>;
  stop(): Promise<void>;
  send(message: Buffer): Promise<void>;
  receive(): Promise<Buffer>;
}

export interface VmwareChannels {
  transport: 'backdoor' | 'vsock';
  tclo: MessageChannel;
  rpci: MessageChannel;
}

/**
 * Why VMware guest RPC cannot exist on this CPU architecture (Node's process.arch), or undefined on x86.
 * Its backdoor is the x86 `in` instruction on an I/O port, found through x86 CPUID, so the addon is built
 * without the VMware parts elsewhere (native/guestlink.c) and --vmware must not point at the addon.
 */
export function vmwareUnavailableReason(arch: string): string | undefined {
  if (arch === 'x64' || arch === 'ia32') return undefined;
  return `VMware guest RPC is x86-only (its backdoor is an x86 I/O-port instruction found through x86 CPUID); this is ${arch}, whose addon is built without it`;
}

export const TCLO_PROTO = 0x4f4c4354;
export const RPCI_PROTO = 0x49435052;

export function isVmware(native: Pick<VmwareNative, 'hypervisorVendor'>): boolean {
  return native.hypervisorVendor() === 'VMwareVMware';
}

export function backdoorChannels(call: BackdoorCall): VmwareChannels {
  return { transport: 'backdoor', tclo: new BackdoorChannel(call, TCLO_PROTO), rpci: new BackdoorChannel(call, RPCI_PROTO) };
}

/**
 * Channels for the mode, or a reason there are none. auto and vsock try a vsock connection now (both
 * ports) and close it again; auto falls back to the backdoor when vsock is missing (no vmw_vsock_vmci
 * module: talos #7366). Nothing is attempted unless CPUID says VMware.
 */
export async function selectChannels(
  native: VmwareNative,
  mode: VmwareTransportMode,
): Promise<{ channels: VmwareChannels } | { reason: string }> {
  const vendor = native.hypervisorVendor();
  if (vendor !== 'VMwareVMware')
    return { reason: `CPUID hypervisor vendor is ${vendor === null ? 'absent' : JSON.stringify(vendor)}, not VMware` };
  if (mode === 'backdoor') return { channels: backdoorChannels(native.backdoorCall) };
  const v = vsockChannels(native.vsockConnect);
  try {
    await v.tclo.start();
    await v.rpci.start();
    await v.tclo.stop();
    await v.rpci.stop();
    return { channels: { transport: 'vsock', tclo: v.tclo, rpci: v.rpci } };
  } catch (err) {
    await v.tclo.stop();
    await v.rpci.stop();
    if (mode === 'vsock') return { reason: `vsock to the VMX failed: ${(err as Error).message}` };
    return { channels: backdoorChannels(native.backdoorCall) };
  }
}
