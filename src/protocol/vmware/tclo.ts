// TCLO: the commands the VMX sends the guest and the replies it expects (open-vm-tools rpcin.c).

/** A parsed TCLO command: the name up to the first space (NUL terminators dropped) and the raw rest. */
export interface TcloRequest {
  name: string;
  args: Buffer;
}

/** Splits `name args` at the first space, as rpcin.c does; a command is never empty here. */
export function parseTcloRequest(message: Buffer): TcloRequest {
  const space = message.indexOf(0x20);
  const rawName = space < 0 ? message : message.subarray(0, space);
  const nul = rawName.indexOf(0);
  const name = (nul < 0 ? rawName : rawName.subarray(0, nul)).toString('latin1');
  return { name, args: space < 0 ? Buffer.alloc(0) : message.subarray(space + 1) };
}

/** `OK <result>` or `ERROR <result>`: the status words vmtoolsd puts before every TCLO result. */
export function tcloReply(ok: boolean, result: Buffer | string = ''): Buffer {
  const body = typeof result === 'string' ? Buffer.from(result, 'utf8') : result;
  return Buffer.concat([Buffer.from(ok ? 'OK ' : 'ERROR ', 'latin1'), body]);
}

/** The reply to a command no handler knows (rpcin.c's text; govmomi omits the ERROR word). */
export const UNKNOWN_COMMAND_REPLY = tcloReply(false, 'Unknown Command');

/** The `reset` reply that tells the VMX which loop answers ("toolbox" is vmtoolsd's service name). */
export function resetReply(appName = 'toolbox'): Buffer {
  return tcloReply(true, `ATR ${appName}`);
}

/** `Set_Option <key> <value>`; a missing value is '' (talos-vmtoolsd panics on it: issue facts). */
export function parseSetOption(args: Buffer): { key: string; value: string } {
  const text = args.toString('utf8').replace(/\0+$/, '');
  const space = text.indexOf(' ');
  return space < 0 ? { key: text.trim(), value: '' } : { key: text.slice(0, space), value: text.slice(space + 1).trim() };
}

/** GuestOsState of powerops.h: the state number `tools.os.statechange.status` reports. */
export const POWER_STATE = {
  OS_Halt: 1,
  OS_Reboot: 2,
  OS_PowerOn: 3,
  OS_Resume: 4,
  OS_Suspend: 5,
} as const;
export type PowerCommandName = keyof typeof POWER_STATE;

/**
 * The TCLO poll delay in 10 ms ticks after an empty poll: 0 -> 1 -> 2 -> 4 -> 8 -> 10 (RPCIN_MAX_DELAY),
 * as rpcin.c's RpcInUpdateDelayTime; a command resets it to 0.
 */
export function nextPollDelay(ticks: number, maxTicks = MAX_POLL_TICKS): number {
  if (ticks >= maxTicks) return maxTicks;
  return ticks <= 0 ? 1 : Math.min(ticks * 2, maxTicks);
}

export const MAX_POLL_TICKS = 10;
export const POLL_TICK_MS = 10;
/** After a channel error both channels are reopened after this long (govmomi resetDelay, rpcChannel.c). */
export const RESET_DELAY_MS = 5000;
