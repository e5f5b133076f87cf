// guest-network-get-interfaces, with the option to hide CNI/virtual links and address-less links.
import type { NetworkInterface } from '../node/interfaces.js';
import type { GroupHandlers } from './context.js';

/** guest-network-get-interfaces (group 'network'), with the --hide-* filters applied. */
export const networkHandlers = {
  'guest-network-get-interfaces': async (_a, ctx) => {
    const { hideVirtualInterfaces, hideInterfacesWithoutAddresses } = ctx.settings;
    let list = await ctx.node.network.interfaces();
    if (hideVirtualInterfaces) list = list.filter((i) => !i.virtual);
    if (hideInterfacesWithoutAddresses) list = list.filter((i) => i.addresses.length > 0);
    return list.map(toWire);
  },
} satisfies GroupHandlers<'network'>;

function toWire(i: NetworkInterface) {
  return {
    name: i.name,
    'hardware-address': i.hardwareAddress,
    'ip-addresses':
      i.addresses.length > 0
        ? i.addresses.map((a) => ({ 'ip-address': a.address, 'ip-address-type': a.family, prefix: a.prefix }))
        : undefined,
    statistics: i.stats && {
      'rx-bytes': i.stats.rxBytes,
      'rx-packets': i.stats.rxPackets,
      'rx-errs': i.stats.rxErrs,
      'rx-dropped': i.stats.rxDropped,
      'tx-bytes': i.stats.txBytes,
      'tx-packets': i.stats.txPackets,
      'tx-errs': i.stats.txErrs,
      'tx-dropped': i.stats.txDropped,
    },
  };
}
