// Vix_1_Relayed_Command: vSphere's guest operations arrive here. Only GetToolsState (opcode 62) is
// served, which the host asks before any guest operation and which vCenter uses to show the tools and
// the OS; every other opcode is refused with VIX_E_UNRECOGNIZED_COMMAND_IN_GUEST, in VIX's own form,
// because guest operations (run a program, copy files) are not something this agent offers over VMware.
import type { SystemInfo } from '../../node/interfaces.js';
import {
  encodeVixProperties,
  parseVixRequest,
  VIX_COMMAND_GET_TOOLS_STATE,
  VIX_COMMAND_MAGIC,
  VIX_E,
  VIX_PROPERTY,
  type VixProperty,
  vixReply,
} from '../../protocol/vmware/vix.js';
import type { VmwareLog } from './log.js';
import { fullOsName, shortOsName } from './os-names.js';

export interface VixSources {
  system: Pick<SystemInfo, 'hostname' | 'osInfo'>;
  /** Product version shown as the tools version. */
  version: string;
}

export async function toolsStateProperties(src: VixSources): Promise<VixProperty[]> {
  const os = await src.system.osInfo().catch(() => ({}));
  const hostname = await src.system.hostname().catch(() => '');
  return [
    { id: VIX_PROPERTY.osVersion, type: 'string', value: fullOsName(os) },
    { id: VIX_PROPERTY.osVersionShort, type: 'string', value: shortOsName(os) },
    { id: VIX_PROPERTY.toolsProductName, type: 'string', value: 'guestlink' },
    { id: VIX_PROPERTY.toolsVersion, type: 'string', value: src.version },
    { id: VIX_PROPERTY.guestName, type: 'string', value: hostname },
  ];
}

/** The handler body: `<rc> <errno> <result>\0`; the service puts `OK ` before it (VIX errors travel in rc). */
export async function handleVixCommand(args: Buffer, src: VixSources, log: VmwareLog): Promise<Buffer> {
  let req: ReturnType<typeof parseVixRequest>;
  try {
    req = parseVixRequest(args);
  } catch (err) {
    log.warn({ err: String(err) }, 'VMware: VIX request without a valid header');
    return vixReply(undefined, VIX_E.invalidMessageHeader, 0);
  }
  const { header } = req;
  if (header.magic !== VIX_COMMAND_MAGIC) return vixReply(header, VIX_E.invalidMessageHeader, 0);
  if (header.opCode !== VIX_COMMAND_GET_TOOLS_STATE) {
    log.info({ opCode: header.opCode }, 'VMware: VIX guest operation refused (only GetToolsState is served)');
    return vixReply(header, VIX_E.unrecognizedCommandInGuest, 0);
  }
  const props = encodeVixProperties(await toolsStateProperties(src));
  return vixReply(header, VIX_E.ok, 0, props.toString('base64'));
}
