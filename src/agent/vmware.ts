// The VMware guest RPC front end (--vmware), beside the QGA channel: the same node back end behind
// vSphere's buttons and guest info. auto starts it only where CPUID says VMware (elsewhere the
// backdoor faults, and nothing is loaded beyond the addon); an explicit vsock/backdoor that cannot
// start stops the agent.
import { uptime } from 'node:os';
import type { Logger } from 'pino';
import type { NodeBackend } from '../node/interfaces.js';
import { VERSION } from '../version.js';
import { type AgentConfig, ConfigError } from './config.js';

/** Starts the front ends besides QGA (VMware guest RPC today); each returned function stops one. */
export async function startOtherFrontEnds(config: AgentConfig, node: NodeBackend, log: Logger): Promise<(() => Promise<void>)[]> {
  if (config.vmware === 'off') return [];
  const vlog = log.child({ frontEnd: 'vmware' });
  const explicit = config.vmware !== 'auto';
  const { selectChannels, vmwareUnavailableReason } = await import('../transport/vmware/select.js');
  const unavailable = vmwareUnavailableReason(process.arch);
  if (unavailable) {
    if (explicit) throw new ConfigError(`--vmware ${config.vmware}: ${unavailable}; use --vmware off`);
    vlog.debug({ reason: unavailable }, 'VMware front end off');
    return [];
  }
  const { loadNative } = await import('../native/addon.js');
  const native = loadNative();
  if (!native?.hypervisorVendor) {
    if (explicit) throw new ConfigError(`--vmware ${config.vmware} needs the native addon (npm run build:native)`);
    vlog.debug({}, 'VMware front end off: the native addon is not built');
    return [];
  }
  const picked = await selectChannels(native, config.vmware);
  if ('reason' in picked) {
    if (explicit) throw new ConfigError(`--vmware ${config.vmware}: ${picked.reason}`);
    vlog.debug({ reason: picked.reason }, 'VMware front end off');
    return [];
  }
  const { createVmwareFrontEnd } = await import('../commands/vmware/index.js');
  const fe = createVmwareFrontEnd(picked.channels.tclo, picked.channels.rpci, {
    system: node.system,
    network: node.network,
    // node.power carries the Kubernetes drain when configured: vSphere's buttons get it too.
    power: node.power,
    uptimeSeconds: uptime,
    version: VERSION,
    log: vlog,
  });
  try {
    await fe.start();
  } catch (err) {
    if (explicit) throw new ConfigError(`--vmware ${config.vmware}: the guest RPC channels do not open: ${String(err)}`);
    vlog.warn({ err: String(err), transport: picked.channels.transport }, 'VMware detected, but the guest RPC channels do not open');
    return [];
  }
  vlog.info({ transport: picked.channels.transport }, 'VMware guest RPC front end started');
  return [() => fe.stop()];
}
