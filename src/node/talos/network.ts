// guest-network-get-interfaces from Talos's LinkStatus and AddressStatus resources, so a hypervisor
// shows the node's own links and IPs (CNI links flagged virtual), read through the API rather than
// from whatever network namespace the agent happens to run in.
import type { Network, NetworkInterface } from '../interfaces.js';
import type { TalosApi } from './api.js';
import { buildInterfaces, parseAddressStatus, parseLinkStatus, RESOURCES } from './resources.js';

export class TalosNetwork implements Network {
  constructor(private readonly api: TalosApi) {}

  async interfaces(): Promise<NetworkInterface[]> {
    const { linkStatus: l, addressStatus: a } = RESOURCES;
    const [links, addresses] = await Promise.all([this.api.list(l.namespace, l.type), this.api.list(a.namespace, a.type)]);
    return buildInterfaces(
      links.map(parseLinkStatus),
      addresses.map(parseAddressStatus).filter((x) => x !== undefined),
    );
  }
}
