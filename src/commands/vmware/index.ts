// The VMware guest RPC front end assembled: a TCLO service with vmtoolsd's commands, an RPCI client,
// the guest info reporter and the power handlers, over two channels the caller supplies.
import type { Network, Power, ShutdownMode, SystemInfo } from '../../node/interfaces.js';
import type { Channel } from '../../protocol/vmware/channel.js';
import { CAPABILITY, setVersion, setVersionType, TOOLS_TYPE_OVT, TOOLS_VERSION_UNMANAGED } from '../../protocol/vmware/rpci.js';
import { parseSetOption, resetReply } from '../../protocol/vmware/tclo.js';
import { GuestInfoReporter } from './guest-info.js';
import { silentLog, type VmwareLog } from './log.js';
import { registerPowerCommands } from './power.js';
import { RpciClient } from './rpci-client.js';
import { type ServiceOptions, TcloService } from './service.js';
import { handleVixCommand } from './vix.js';

export interface VmwareFrontEndOptions {
  system: Pick<SystemInfo, 'hostname' | 'osInfo'>;
  network: Network;
  power?: Power;
  haltMode?: ShutdownMode;
  uptimeSeconds: () => number;
  /** guestlink's version, shown as the tools version in GetToolsState. */
  version: string;
  excludeNics?: readonly string[];
  /** How old the guest info may get before a `ping` refreshes it. Default 30 s (guestinfo's poll interval). */
  refreshMs?: number;
  log?: VmwareLog;
  service?: ServiceOptions;
  now?: () => number;
}

export interface VmwareFrontEnd {
  service: TcloService;
  rpci: RpciClient;
  info: GuestInfoReporter;
  start(): Promise<void>;
  stop(): Promise<void>;
}

export const APP_NAME = 'toolbox';

export function createVmwareFrontEnd(tclo: Channel, rpciChannel: Channel, o: VmwareFrontEndOptions): VmwareFrontEnd {
  const log = o.log ?? silentLog;
  const rpci = new RpciClient(rpciChannel);
  const service = new TcloService(tclo, rpci, { log, ...o.service });
  const info = new GuestInfoReporter(
    rpci,
    { system: o.system, network: o.network, uptimeSeconds: o.uptimeSeconds, ...(o.excludeNics ? { excludeNics: o.excludeNics } : {}) },
    log,
    o.now,
  );
  const refreshMs = o.refreshMs ?? 30_000;
  const warn = (what: string) => (err: Error) => log.warn({ err: err.message }, `VMware: ${what} not accepted`);

  service.register('reset', async () => {
    info.forget();
    await info.push();
    return resetReply(APP_NAME).subarray(3); // the service adds the `OK `
  });
  service.register('ping', async () => {
    if (info.stale(refreshMs)) await info.push();
    return undefined;
  });
  service.register('Capabilities_Register', async () => {
    await rpci.tryRequest(CAPABILITY.unifiedLoop(APP_NAME), warn('unified_loop'));
    // versiontype first; a host too old for it gets tools.set.version (vmtoolsd's order).
    const typed = await rpci.tryRequest(setVersionType(TOOLS_VERSION_UNMANAGED, TOOLS_TYPE_OVT), () => {});
    if (typed === undefined) await rpci.tryRequest(setVersion(TOOLS_VERSION_UNMANAGED), warn('tools.set.version'));
    await rpci.tryRequest(CAPABILITY.statechange, warn('statechange capability'));
    await rpci.tryRequest(CAPABILITY.softpowerop, warn('softpowerop_retry capability'));
    // Without the uptime here a second vSphere reboot is never acknowledged (talos-vmtoolsd #21).
    await info.sendUptime();
    return undefined;
  });
  service.register('Set_Option', async (args) => {
    const { key, value } = parseSetOption(args);
    log.debug({ key, value }, 'VMware: Set_Option');
    if (key === 'broadcastIP' && value === '1') await info.broadcastIp();
    return undefined;
  });
  service.register('Vix_1_Relayed_Command', (args) => handleVixCommand(args, { system: o.system, version: o.version }, log));
  registerPowerCommands(service, rpci, log, { ...(o.power ? { power: o.power } : {}), ...(o.haltMode ? { haltMode: o.haltMode } : {}) });

  return { service, rpci, info, start: () => service.start(), stop: () => service.stop() };
}
