// A node as the VMware front end sees it in tests: fixed host name and OS, a chosen interface list,
// and the dry-run power back end that records instead of acting.

import { createVmwareFrontEnd, type VmwareFrontEndOptions } from '../../src/commands/vmware/index.js';
import { DryRunPower } from '../../src/node/dry-run/power.js';
import type { NetworkInterface, OsInfo } from '../../src/node/interfaces.js';
import { VmxDouble } from '../doubles/vmx.js';

export const OS: OsInfo = {
  id: 'talos',
  name: 'Talos',
  prettyName: 'Talos (v1.9.0)',
  versionId: 'v1.9.0',
  kernelRelease: '6.12.6-talos',
  machine: 'x86_64',
};

export const ETH0: NetworkInterface = {
  name: 'eth0',
  hardwareAddress: '00:50:56:aa:bb:cc',
  addresses: [{ address: '192.168.1.10', family: 'ipv4', prefix: 24 }],
};

export function startFixture(extra: Partial<VmwareFrontEndOptions> & { interfaces?: NetworkInterface[]; noPower?: boolean } = {}) {
  const vmx = new VmxDouble();
  const power = new DryRunPower();
  let interfaces = extra.interfaces ?? [ETH0];
  const fe = createVmwareFrontEnd(vmx.tcloChannel(), vmx.rpciChannel(), {
    system: { hostname: async () => 'node1', osInfo: async () => OS },
    network: { interfaces: async () => interfaces },
    ...(extra.noPower ? {} : { power }),
    uptimeSeconds: () => 123.45,
    version: '0.1.0-test',
    ...extra,
  });
  return {
    vmx,
    power,
    fe,
    setInterfaces(i: NetworkInterface[]) {
      interfaces = i;
    },
  };
}
