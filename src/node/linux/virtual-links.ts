// Which network links are container/CNI/virtual plumbing rather than the node's own NICs: on a
// Kubernetes node there can be hundreds (one veth per pod), and Proxmox/Terraform choke on them.
// Only names that these projects create are listed; never lo, ethN/ensN/enpXsY/ethernet bonds.

/** Name patterns of virtual links, one family per line with the reason it is there. */
export const VIRTUAL_LINK_PATTERNS: readonly RegExp[] = [
  /^veth/, // host ends of veth pairs: Docker, containerd/CRI-O with the bridge/ptp CNI plugins, Weave (vethwe-*), k3s/flannel
  /^cali/, // Calico: one cali<hash> veth per pod
  /^vxlan(-v6)?\.calico$/, // Calico's VXLAN overlay devices
  /^wireguard\.cali$|^wg-v6\.cali$/, // Calico's WireGuard encryption devices
  /^cilium_/, // Cilium: cilium_host, cilium_net, cilium_vxlan, cilium_geneve, cilium_wg0
  /^lxc/, // Cilium pod veths (lxc<hash>, lxc_health) and LXC's lxcbr0 bridge
  /^flannel/, // flannel: flannel.1 (VXLAN), flannel-v6.1, flannel-wg
  /^cni/, // the bridge CNI plugin's default bridge cni0, podman's cni-podman*
  /^docker/, // Docker's default bridge docker0 (and docker_gwbridge in swarm mode)
  /^br-[0-9a-f]{12}$/, // Docker user-defined networks: br-<first 12 hex digits of the network id>
  /^podman\d*$/, // podman's netavark default bridge
  /^nerdctl\d*$/, // nerdctl's default bridge
  /^kube-ipvs0$/, // kube-proxy in IPVS mode: a dummy link holding every Service IP
  /^kube-bridge$|^kube-dummy-if$/, // kube-router's pod bridge and its Service-IP dummy
  /^nodelocaldns$/, // NodeLocal DNSCache's dummy link (169.254.20.10)
  /^genev_sys_\d+$/, // Open vSwitch's Geneve port (OVN-Kubernetes, Antrea, Kube-OVN)
  /^ovn-k8s-mp\d+$/, // OVN-Kubernetes' management port
  /^antrea-/, // Antrea: antrea-gw0, antrea-tun0, antrea-egress0
  /^weave$|^datapath$|^vxlan-6784$/, // Weave Net's bridge, OVS datapath and fast-datapath VXLAN
  /^tunl0$|^ip6tnl0$|^sit0$|^gre0$|^gretap0$|^erspan0$|^ip_vti0$|^ip6_vti0$|^ip6gre0$/, // kernel fallback tunnels, created in
  // every namespace when ipip/sit/gre/vti modules load (Calico IPIP, flannel ipip); never a NIC
  /^ifb\d+$/, // the ifb module's default ingress-shaping devices (bandwidth CNI plugin, tc); never a NIC
];

/** True when a link name is container/CNI/virtual plumbing (see VIRTUAL_LINK_PATTERNS); alias labels use the base name. */
export function isVirtualLink(name: string): boolean {
  const base = name.split(':')[0] ?? name;
  if (base === 'lo') return false;
  return VIRTUAL_LINK_PATTERNS.some((re) => re.test(base));
}
