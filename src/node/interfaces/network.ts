// The node's network interfaces as guest-network-get-interfaces reports them.
// One of the node interfaces (node/interfaces.ts re-exports them all).

export interface IpAddress {
  address: string;
  family: 'ipv4' | 'ipv6';
  prefix: number;
}

export interface InterfaceStats {
  rxBytes: number | bigint;
  rxPackets: number | bigint;
  rxErrs: number | bigint;
  rxDropped: number | bigint;
  txBytes: number | bigint;
  txPackets: number | bigint;
  txErrs: number | bigint;
  txDropped: number | bigint;
}

export interface NetworkInterface {
  name: string;
  /** MAC address, lower-case colon form; absent for interfaces without one. */
  hardwareAddress?: string;
  addresses: IpAddress[];
  stats?: InterfaceStats;
  /** True for CNI/container/virtual links (veth*, cali*, cilium_*, ...): hidden when configured. */
  virtual?: boolean;
}

export interface Network {
  interfaces(): Promise<NetworkInterface[]>;
}
