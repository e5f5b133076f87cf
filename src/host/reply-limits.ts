// How many bytes the host reads for one agent reply before it gives up, so a hostile or broken agent
// cannot make the CLI buffer without end. Each connector turns the payload bound (file data, program
// output) into a bound on its own wire bytes: base64 inside QGA JSON (4/3), or the Proxmox VE API,
// which sends each byte as a JSON string character (\u00XX at worst, 6 bytes).

/** Replies without a payload (guest-info, interfaces, fsinfo, ...): 8 MiB is ~30,000 interfaces. */
export const MAX_PLAIN_REPLY = 8 << 20;
/** QGA agents keep at most 16 MiB of each output stream of a guest-exec'd program (qemu-ga's GUEST_EXEC_MAX_OUTPUT). */
export const QGA_EXEC_OUTPUT_MAX = 16 << 20;
/** Room for the JSON around a payload (keys, exit code, flags). */
const ENVELOPE = 64 << 10;

/** Wire bytes per payload byte on each kind of path. */
export const WIRE_FACTOR = { base64: 4 / 3, pve: 6 } as const;

/**
 * The payload bytes a reply to `execute` may carry, or undefined for a reply without one: guest-file-read
 * carries at most the `count` asked for, guest-exec-status both output streams. `override` (a caller's
 * own cap, e.g. the kubeconfig size) can only lower it.
 */
export function replyPayload(execute: string, args: Readonly<Record<string, unknown>> | undefined, override?: number): number | undefined {
  let payload: number | undefined;
  if (execute === 'guest-file-read') payload = typeof args?.count === 'number' ? args.count : 4096;
  else if (execute === 'guest-exec-status') payload = 2 * QGA_EXEC_OUTPUT_MAX;
  if (override !== undefined) payload = payload === undefined ? override : Math.min(payload, override);
  return payload;
}

/** The wire bytes to accept for a reply whose payload is bounded by `payload` (see replyPayload). */
export function replyWireLimit(payload: number | undefined, factor: number): number {
  if (payload === undefined) return MAX_PLAIN_REPLY;
  return Math.ceil(payload * factor) + ENVELOPE;
}
