// Every agent setting in one table (the settings engine's spec: src/settings/spec.ts): its key-file
// key and group, flags, environment variable, type, checks, default and help. Argument parsing, the
// config file, validation, --dump-conf, --help and docs/configuration.md all derive from it.
import { parseDuration } from '../kube/duration.js';
import { envNameOf, type SettingSpec } from '../settings/index.js';

/** What a Talos role and a Kubernetes node name look like (the engine already refuses empty strings). */
const TALOS_ROLE = { re: /^os:[a-z:]+$/, text: 'a Talos role such as os:operator' };
const NODE_NAME = { re: /^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/, text: 'a Kubernetes node name (lower-case DNS subdomain)' };

export const SETTINGS = [
  {
    key: 'method',
    group: 'general',
    type: 'string',
    short: 'm',
    default: 'virtio-serial',
    choices: ['virtio-serial', 'isa-serial', 'unix-listen', 'vsock-listen'],
    help: 'transport method (vsock-listen is recognised but not supported yet)',
  },
  {
    key: 'path',
    group: 'general',
    type: 'string',
    short: 'p',
    help: 'device or socket path (virtio-serial: /dev/virtio-ports/org.qemu.guest_agent.0, isa-serial: /dev/ttyS0)',
  },
  { key: 'logfile', group: 'general', type: 'string', short: 'l', help: 'log file (JSON lines); stderr by default' },
  { key: 'pidfile', group: 'general', type: 'string', short: 'f', help: 'write the process id to this file' },
  {
    key: 'fsfreeze-hook',
    absolute: true,
    group: 'general',
    type: 'string',
    short: 'F',
    optionalValue: '/etc/qemu/fsfreeze-hook',
    help: 'run this script with freeze/thaw around fsfreeze (-F alone: /etc/qemu/fsfreeze-hook; a value must be glued: -F/path)',
  },
  {
    key: 'statedir',
    absolute: true,
    group: 'general',
    type: 'string',
    short: 't',
    default: '/var/run',
    help: 'directory for persistent state (file handle counter, frozen marker)',
  },
  { key: 'verbose', group: 'general', type: 'bool', short: 'v', default: false, help: 'log debug messages' },
  {
    key: 'daemon',
    group: 'general',
    type: 'bool',
    short: 'd',
    default: false,
    help: 'accepted for compatibility; guestlink stays in the foreground (use a service manager)',
  },
  {
    key: 'retry-path',
    group: 'general',
    type: 'bool',
    short: 'r',
    default: false,
    help: 'keep reopening the device path when it is missing or fails',
  },
  {
    key: 'block-rpcs',
    aliases: ['blacklist'],
    group: 'general',
    type: 'list',
    short: 'b',
    default: [],
    help: 'commands to disable (comma-separated; "help" lists them)',
  },
  {
    key: 'allow-rpcs',
    group: 'general',
    type: 'list',
    short: 'a',
    default: [],
    help: 'only these commands are enabled (comma-separated; "help" lists them)',
  },
  {
    key: 'allow-exec',
    absolute: true,
    wildcard: '*',
    group: 'guestlink',
    type: 'list',
    default: [],
    help: 'absolute paths of programs guest-exec may run (enables guest-exec); "*" allows any',
  },
  {
    key: 'allow-file-read',
    absolute: true,
    group: 'guestlink',
    type: 'list',
    default: [],
    help: 'files, or directories ending in "/", that guest-file-open may read (enables guest-file-*)',
  },
  {
    key: 'allow-file-write',
    absolute: true,
    group: 'guestlink',
    type: 'list',
    default: [],
    help: 'files, or directories ending in "/", that guest-file-open may write (enables guest-file-*)',
  },
  {
    key: 'fsfreeze-timeout',
    min: 0,
    group: 'guestlink',
    type: 'int',
    default: 600,
    help: 'seconds after which the agent thaws filesystems a host left frozen; 0 disables the watchdog',
  },
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
  {
    key: 'max-request-bytes',
    min: 1024,
    max: 64 << 20,
    group: 'guestlink',
    type: 'int',
    default: 64 << 20,
    help: 'largest request accepted (qemu-ga: 64 MiB); larger ones get a GenericError',
  },
  {
    key: 'kube',
    group: 'guestlink',
    type: 'string',
    default: 'auto',
    choices: ['auto', 'off', 'in-cluster', 'kubeconfig'],
    help: 'Kubernetes lifecycle (drain before a hypervisor power action, uncordon after): auto uses the pod service account when present with NODE_NAME, else a kubeconfig given with --kubeconfig (KUBECONFIG alone is not enough), else off (nothing loaded)',
  },
  {
    key: 'kubeconfig',
    group: 'guestlink',
    type: 'string',
    help: 'kubeconfig file (or a KUBECONFIG-style list) for a host process; --kube kubeconfig without it reads $KUBECONFIG',
  },
  {
    key: 'node-name',
    pattern: NODE_NAME,
    group: 'guestlink',
    type: 'string',
    help: "this machine's Kubernetes Node name; default: $NODE_NAME (downward API spec.nodeName), else the host name",
  },
  {
    key: 'drain',
    group: 'guestlink',
    type: 'string',
    default: 'auto',
    choices: ['auto', 'always', 'never'],
    help: 'cordon and drain the Node before guest-shutdown (auto: unless the OS drains by itself, as Talos Shutdown does)',
  },
  {
    key: 'drain-timeout',
    // Kept as written (dump-conf prints it back); 1 s to 1 h: past an hour no hypervisor still waits.
    check: (v) => {
      const ms = parseDuration(String(v));
      return ms !== undefined && ms >= 1000 && ms <= 3_600_000 ? undefined : 'must be a duration from 1s to 1h, like 50s or 9m30s';
    },
    group: 'guestlink',
    type: 'string',
    default: '50s',
    help: "deadline from the request to the power action (like 50s, 9m30s; a bare number is seconds): below libvirt's 60 s agent timeout; Proxmox waits 10 min, so up to 9m30s there",
  },
  {
    key: 'drain-on-timeout',
    group: 'guestlink',
    type: 'string',
    default: 'proceed',
    choices: ['proceed', 'abort'],
    help: 'when the node is not drained by the deadline: proceed with the power action (recorded), or abort it with an error to the hypervisor',
  },
  {
    key: 'vmware',
    group: 'guestlink',
    type: 'string',
    default: 'auto',
    choices: ['auto', 'off', 'vsock', 'backdoor'],
    help: 'VMware Tools guest RPC for vSphere (power buttons, guest info, heartbeat): auto starts it only when CPUID says VMware, over vsock, else the backdoor; needs the native addon; x86 only (elsewhere vsock and backdoor refuse to start, saying why)',
  },
] as const satisfies readonly SettingSpec[];

export type SettingKey = (typeof SETTINGS)[number]['key'];

/** Command-line requests that are not settings (qemu-ga's -h, -V, -D, -c). */
export const AGENT_ACTIONS = [
  {
    key: 'config',
    short: 'c',
    type: 'string',
    action: 'config',
    arg: 'PATH',
    noEnv: true,
    help: 'read a qemu-ga style key file ([general] and [guestlink] groups)',
  },
  {
    key: 'dump-conf',
    short: 'D',
    type: 'bool',
    action: 'dump-conf',
    noEnv: true,
    help: 'print the effective configuration as a key file and exit',
  },
  { key: 'version', short: 'V', type: 'bool', action: 'version', noEnv: true, help: 'print the version and exit' },
  { key: 'help', short: 'h', type: 'bool', action: 'help', noEnv: true, help: 'this text' },
] as const satisfies readonly SettingSpec[];

/** `fsfreeze-hook` -> `GUESTLINK_FSFREEZE_HOOK`. */
export function envName(key: string): string {
  return envNameOf('GUESTLINK', key);
}
