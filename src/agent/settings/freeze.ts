// The filesystem freeze: its watchdog and the etcd snapshot taken before it (issue 18).
// One part of the agent's settings table: src/agent/settings.ts joins the parts, in a fixed order.
import { parseEndpoint } from '../../node/linux/etcd-endpoints.js';
import type { SettingSpec } from '../../settings/index.js';

/** The freeze settings, in their --help and docs order. */
export const FREEZE = [
  {
    key: 'fsfreeze-timeout',
    min: 0,
    group: 'guestlink',
    type: 'int',
    default: 600,
    help: 'seconds after which the agent thaws filesystems a host left frozen; 0 disables the watchdog',
  },
  {
    key: 'etcd-snapshot-dir',
    absolute: true,
    group: 'guestlink',
    type: 'string',
    help: 'before every freeze, take an etcd snapshot into this directory (control-plane nodes; created 0700; on Talos under /var, such as /var/lib/guestlink/etcd-snapshots); unset: off',
  },
  {
    key: 'etcd-snapshot-keep',
    min: 1,
    max: 1000,
    group: 'guestlink',
    type: 'int',
    default: 3,
    help: 'etcd snapshots kept in --etcd-snapshot-dir; older ones are removed only after a new one is verified',
  },
  {
    key: 'etcd-snapshot-timeout',
    min: 1,
    max: 3600,
    group: 'guestlink',
    type: 'int',
    // libvirt gives the whole freeze 5 s (qemu_agent.c QEMU_AGENT_WAIT_TIME); this leaves 2 s to freeze.
    default: 3,
    help: "seconds the etcd snapshot may take before the freeze goes on without it: under libvirt's 5 s agent timeout (Proxmox waits 10 min for a freeze)",
  },
  {
    key: 'etcd-snapshot-required',
    group: 'guestlink',
    type: 'bool',
    default: false,
    help: 'a failed etcd snapshot fails the freeze (a GenericError with the reason; nothing is frozen) instead of being logged and reported',
  },
  {
    key: 'etcd-snapshot-max-bytes',
    min: 1 << 20,
    group: 'guestlink',
    type: 'int',
    // etcd's documented ceiling for --quota-backend-bytes is 8 GiB: no real database is larger.
    default: 8 * 1024 ** 3,
    help: "largest etcd database accepted (etcd's suggested maximum quota, 8 GiB); a longer stream is cut and discarded",
  },
  {
    key: 'etcd-snapshot-on-demand',
    group: 'guestlink',
    type: 'bool',
    default: false,
    help: 'enable guestlink-etcd-snapshot (take one now) and read-only guest-file-* access to --etcd-snapshot-dir, for `guestlink etcd-snapshot`',
  },
  {
    key: 'etcd-endpoints',
    group: 'guestlink',
    // etcd's traffic is every Secret of the cluster: plain http only to loopback, refused at start-up.
    check: (v) => {
      for (const url of v as readonly string[]) {
        try {
          parseEndpoint(url);
        } catch (err) {
          return (err as Error).message;
        }
      }
      return undefined;
    },
    type: 'list',
    default: [],
    help: "etcd client URLs (https://, or http:// to loopback only); default: from kubeadm's /etc/kubernetes/manifests/etcd.yaml, or k3s's/RKE2's embedded etcd on 127.0.0.1:2379; none found: a worker, snapshots off",
  },
  {
    key: 'etcd-cacert',
    absolute: true,
    group: 'guestlink',
    type: 'string',
    help: "CA of etcd's server certificate (default: kubeadm /etc/kubernetes/pki/etcd/ca.crt; k3s/RKE2 server/tls/etcd/server-ca.crt)",
  },
  {
    key: 'etcd-cert',
    absolute: true,
    group: 'guestlink',
    type: 'string',
    help: "etcd client certificate (default: kubeadm's healthcheck-client.crt; k3s/RKE2 server/tls/etcd/client.crt)",
  },
  {
    key: 'etcd-key',
    absolute: true,
    group: 'guestlink',
    type: 'string',
    help: 'key of --etcd-cert (default: beside the detected certificate)',
  },
] as const satisfies readonly SettingSpec[];
