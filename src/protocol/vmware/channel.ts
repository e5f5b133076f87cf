// The guest RPC channel as the VMware front end sees it: one message out, one message back.
// Same shape for TCLO (host -> guest commands) and RPCI (guest -> host requests), for the backdoor
// and vsock transports and for the VMX double in tests. No I/O here: transports implement it.

/**
 * A message channel to the VMX. TCLO: send our reply to the last command (empty when there was
 * none), then receive the next command (empty when the host has none). RPCI: send a request, then
 * receive its reply. Errors reject; the service then reopens both channels.
 */
export interface Channel {
  /** Opens the channel (backdoor: MESSAGE OPEN; vsock: connect). */
  start(): Promise<void>;
  /** Closes it; safe to call when not started. */
  stop(): Promise<void>;
  send(message: Buffer): Promise<void>;
  receive(): Promise<Buffer>;
}

/** The two guest RPC protocols, by the 32-bit number the backdoor OPEN call carries in EBX. */
export const RPC_PROTOCOL = {
  /** 'TCLO' little-endian: commands from the host, polled. */
  tclo: 0x4f4c4354,
  /** 'RPCI' little-endian: requests from the guest. */
  rpci: 0x49435052,
} as const;

/** Largest message either side accepts (the backdoor's limit); longer ones are refused before sending. */
export const MAX_MESSAGE_BYTES = 64 * 1024;
