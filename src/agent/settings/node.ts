// How the node is read and acted on: which interfaces are reported, the back end (Linux or Talos and its
// API), and how a power request is carried out.
// One part of the agent's settings table: src/agent/settings.ts joins the parts, in a fixed order.
import type { SettingSpec } from '../../settings/index.js';

/** What a Talos role looks like (the engine already refuses empty strings). */
const TALOS_ROLE = { re: /^os:[a-z:]+$/, text: 'a Talos role such as os:operator' };

/** The node settings, in their --help and docs order. */
export const NODE = [
  {
    key: 'hide-virtual-interfaces',
    group: 'guestlink',
    type: 'bool',
    default: true,
    help: 'leave CNI/container interfaces (veth*, cali*, cilium_*, lxc*, flannel*, docker*, cni*, ...) out of guest-network-get-interfaces',
  },
  {
    key: 'hide-interfaces-without-addresses',
    group: 'guestlink',
    type: 'bool',
    default: false,
    help: 'leave interfaces without an IP address out of guest-network-get-interfaces',
  },
  {
    key: 'node-backend',
    group: 'guestlink',
    type: 'string',
    default: 'auto',
    choices: ['auto', 'talos', 'linux'],
    help: 'how to reach the node OS (auto: talos when the machined socket or the Talos service-account config exists, else linux)',
  },
  {
    key: 'talos-socket',
    absolute: true,
    group: 'guestlink',
    type: 'string',
    default: '/system/run/machined/machine.sock',
    help: 'machined socket used in Talos system-extension mode (insecure, authorised by talos-role)',
  },
  {
    key: 'talosconfig',
    absolute: true,
    group: 'guestlink',
    type: 'string',
    help: 'talosconfig for apid over mTLS (DaemonSet mode); auto also finds /var/run/secrets/talos.dev/config',
  },
  {
    key: 'talos-endpoint',
    group: 'guestlink',
    type: 'string',
    help: "apid address HOST[:PORT] (default: the talosconfig context's first endpoint, port 50000)",
  },
  {
    key: 'talos-node',
    group: 'guestlink',
    type: 'string',
    help: "this node's IP, sent as gRPC metadata `node` so apid acts on it (downward API status.hostIP); required with a talosconfig",
  },
  {
    key: 'talos-role',
    pattern: TALOS_ROLE,
    group: 'guestlink',
    type: 'string',
    default: 'os:operator',
    help: 'role claimed on the machined socket (os:operator is enough for every call the agent makes)',
  },
  {
    key: 'talos-reboot-mode',
    group: 'guestlink',
    type: 'string',
    default: 'default',
    choices: ['default', 'powercycle'],
    help: 'Reboot mode for guest-shutdown reboot (powercycle skips kexec)',
  },
  {
    key: 'talos-timeout',
    // Bounded so a hypervisor (libvirt waits 5 s by default, Proxmox pings with 3 s) gets an answer.
    min: 1,
    max: 120,
    group: 'guestlink',
    type: 'int',
    // Below libvirt's 5 s agent timeout, so a failure reaches the host as an error, not a timeout.
    default: 4,
    help: 'seconds within which each Talos API call, retries included, succeeds or fails with a GenericError',
  },
  {
    key: 'power',
    group: 'guestlink',
    type: 'string',
    default: 'auto',
    choices: ['auto', 'dry-run', 'logind', 'openrc', 'shutdown-command', 'syscall'],
    help: 'how guest-shutdown acts (auto: logind when systemd runs, else OpenRC/busybox init, else shutdown(8), else reboot(2)); dry-run records requests in <statedir>/guestlink-power.jsonl and does nothing',
  },
] as const satisfies readonly SettingSpec[];
