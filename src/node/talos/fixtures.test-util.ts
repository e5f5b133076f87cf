// Real-shaped COSI yaml_spec texts of a Talos control-plane VM running Cilium and flannel-style
// plumbing: the shapes (field names, enum spellings, 4-space nesting, "" for an empty kind) follow
// what Talos's yaml marshaling of LinkStatusSpec, AddressStatusSpec, HostnameStatusSpec and block
// MountStatusSpec produces (see link_status_test.go in siderolabs/talos). Used by the unit tests and
// served by the Talos API double in test/talos/.

export interface FixtureResource {
  namespace: string;
  type: string;
  id: string;
  yaml: string;
}

const LINK = { namespace: 'network', type: 'LinkStatuses.net.talos.dev' };
const ADDR = { namespace: 'network', type: 'AddressStatuses.net.talos.dev' };

function link(id: string, index: number, type: string, kind: string, hw: string, extra = ''): FixtureResource {
  return {
    ...LINK,
    id,
    yaml: `index: ${index}
type: ${type}
linkIndex: 0
flags: UP,BROADCAST,RUNNING,MULTICAST,LOWER_UP
hardwareAddr: ${hw || '""'}
permanentAddr: ${hw || '""'}
broadcastAddr: ff:ff:ff:ff:ff:ff
mtu: 1500
queueDisc: ${kind === '' ? 'pfifo_fast' : 'noqueue'}
operationalState: up
kind: ${kind === '' ? '""' : kind}
slaveKind: ""
${extra}linkState: true
port: Other
duplex: Unknown
`,
  };
}

function addr(linkName: string, linkIndex: number, cidr: string, scope = 'global'): FixtureResource {
  const v6 = cidr.includes(':');
  return {
    ...ADDR,
    id: `${linkName}/${cidr}`,
    yaml: `address: ${cidr}
local: ${cidr.split('/')[0]}
linkIndex: ${linkIndex}
linkName: ${linkName}
family: ${v6 ? 'inet6' : 'inet4'}
scope: ${scope}
flags: permanent
priority: 1024
`,
  };
}

/** Links in ifindex order as the kernel numbers them; the NIC is not first, as on a real node. */
export const LINKS: FixtureResource[] = [
  link('lo', 1, 'loopback', '', '00:00:00:00:00:00'),
  link('eth0', 2, 'ether', '', 'BC:24:11:5A:3B:01', 'busPath: 0000:00:12.0\npciID: 1AF4:1000\ndriver: virtio_net\n'),
  link('eth1', 3, 'ether', '', 'bc:24:11:5a:3b:02', 'busPath: 0000:00:13.0\ndriver: virtio_net\n'),
  link('ip6tnl0', 4, 'tunnel6', 'ip6tnl', '00:00:00:00:00:00:00:00:00:00:00:00:00:00:00:00'),
  link('sit0', 5, 'sit', 'sit', '00:00:00:00'),
  link('teql0', 6, 'void', '', ''),
  link('cilium_net', 7, 'ether', 'veth', 'a2:6e:0c:61:5e:1d', 'veth:\n    peerName: cilium_host\n'),
  link('cilium_host', 8, 'ether', 'veth', '8e:2f:9a:71:c4:0b', 'veth:\n    peerName: cilium_net\n'),
  link('cilium_vxlan', 9, 'ether', 'vxlan', 'f6:19:dd:b0:7e:62'),
  link('lxc_health', 10, 'ether', 'veth', '5e:0d:12:8b:33:aa'),
  link('lxc8a1f0c2e7b3d', 11, 'ether', 'veth', '7a:44:f2:09:1c:5b'),
  link('kube-ipvs0', 12, 'ether', 'dummy', '46:b1:0f:e5:91:27'),
  link('bond0', 13, 'ether', 'bond', 'bc:24:11:5a:3b:02', 'bondMaster:\n    mode: active-backup\n    miimon: 100\n'),
];

export const ADDRESSES: FixtureResource[] = [
  addr('lo', 1, '127.0.0.1/8', 'host'),
  addr('lo', 1, '::1/128', 'host'),
  addr('eth0', 2, '192.168.122.51/24'),
  addr('eth0', 2, 'fe80::be24:11ff:fe5a:3b01/64', 'link'),
  addr('bond0', 13, '10.0.13.5/24'),
  addr('cilium_host', 8, '10.244.0.120/32'),
  addr('kube-ipvs0', 12, '10.96.0.1/32'),
  addr('kube-ipvs0', 12, '10.96.0.10/32'),
];

export const HOSTNAME: FixtureResource = {
  namespace: 'network',
  type: 'HostnameStatuses.net.talos.dev',
  id: 'hostname',
  yaml: 'hostname: talos-cp-1\ndomainname: cluster.example\n',
};

export const MOUNT_STATUSES: FixtureResource[] = [
  {
    namespace: 'runtime',
    type: 'MountStatuses.block.talos.dev',
    id: 'EPHEMERAL',
    yaml: `spec:
    volumeID: EPHEMERAL
    parentID: ""
    readOnly: false
    detached: false
    requesters:
        - volume-mount-controller
    requesterIDs:
        - EPHEMERAL
source: /dev/sda6
target: /var
filesystem: xfs
readOnly: false
projectQuotaSupport: true
detached: false
`,
  },
  {
    namespace: 'runtime',
    type: 'MountStatuses.block.talos.dev',
    id: 'STATE',
    yaml: `spec:
    volumeID: STATE
    parentID: ""
    readOnly: false
    detached: false
    requesters:
        - volume-mount-controller
    requesterIDs:
        - STATE
source: /dev/sda5
target: /system/state
filesystem: xfs
readOnly: false
projectQuotaSupport: false
detached: false
`,
  },
];

/** What machined's Mounts returns: every /proc/mounts line, block devices or not. */
export const MOUNTS = [
  { filesystem: 'rootfs', size: 0, available: 0, mountedOn: '/' },
  { filesystem: '/dev/loop0', size: 78643200, available: 0, mountedOn: '/' },
  { filesystem: 'proc', size: 0, available: 0, mountedOn: '/proc' },
  { filesystem: '/dev/sda5', size: 104857600, available: 98566144, mountedOn: '/system/state' },
  { filesystem: '/dev/sda6', size: 42949672960, available: 30064771072, mountedOn: '/var' },
  { filesystem: 'tmpfs', size: 2061549568, available: 2061549568, mountedOn: '/run' },
  { filesystem: '/dev/sda6', size: 42949672960, available: 30064771072, mountedOn: '/var/lib/kubelet/pods/1b2c/volume-subpaths/cfg/c/0' },
];
