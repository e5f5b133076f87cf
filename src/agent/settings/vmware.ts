// The VMware Tools front end for vSphere.
// One part of the agent's settings table: src/agent/settings.ts joins the parts, in a fixed order.
import type { SettingSpec } from '../../settings/index.js';

/** The vmware settings, in their --help and docs order. */
export const VMWARE = [
  {
    key: 'vmware',
    group: 'guestlink',
    type: 'string',
    default: 'auto',
    choices: ['auto', 'off', 'vsock', 'backdoor'],
    help: 'VMware Tools guest RPC for vSphere (power buttons, guest info, heartbeat): auto starts it only when CPUID says VMware, over vsock, else the backdoor; needs the native addon; x86 only (elsewhere vsock and backdoor refuse to start, saying why)',
  },
] as const satisfies readonly SettingSpec[];
