// Transport failures of the VMware channels. transport/ imports nothing of protocol/, so these carry
// their own stable codes; the front end treats any of them as "reopen the channels".

export type VmwareTransportCode = 'NOT_OPEN' | 'BACKDOOR_STATUS' | 'BACKDOOR_PROTOCOL' | 'TOO_LONG' | 'DATAMAP' | 'TIMEOUT' | 'CLOSED';

export class VmwareTransportError extends Error {
  constructor(
    readonly code: VmwareTransportCode,
    message: string,
  ) {
    super(message);
    this.name = 'VmwareTransportError';
  }
}

/** The VMX's message limit (64 KiB); protocol/vmware/channel.ts has the same number for the front end. */
export const MAX_MESSAGE_BYTES = 64 * 1024;
