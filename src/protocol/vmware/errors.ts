// Every failure of the VMware front end, one class with a stable code, as data a log can carry.

export type VmwareErrorCode =
  | 'RPCI_REFUSED' // the host answered `0 ...`
  | 'RPCI_BAD_REPLY' // the host answered something that is neither `1 ` nor `0 `
  | 'CHANNEL' // the transport failed (send/receive/open)
  | 'MESSAGE_TOO_LONG' // over MAX_MESSAGE_BYTES
  | 'XDR_DECODE' // a NIC info message that does not parse
  | 'XDR_LIMIT' // a value over a nicinfo.x bound
  | 'VIX_HEADER' // a relayed VIX command whose header does not parse
  | 'DATAMAP' // a vsock packet that does not parse
  | 'NOT_VMWARE'; // the backdoor was asked for on a machine CPUID does not call VMware

export class VmwareError extends Error {
  constructor(
    readonly code: VmwareErrorCode,
    message: string,
  ) {
    super(message);
    this.name = 'VmwareError';
  }
}
