// Every agent setting in one table (the settings engine's spec: src/settings/spec.ts): its key-file
// key and group, flags, environment variable, type, checks, default and help. Argument parsing, the
// config file, validation, --dump-conf, --help and docs/configuration.md all derive from it.
// A data table: it grows by one entry per setting, so it is exempt from the ~350-line file size.
import path from 'node:path';
import { ENV_NAME } from '../commands/exec-env.js';
import { parseExecRule } from '../commands/exec-rules.js';
import { parseDuration } from '../kube/duration.js';
import { parseEndpoint } from '../node/linux/etcd-endpoints.js';
import { envNameOf, type SettingSpec } from '../settings/index.js';

/** What a Talos role and a Kubernetes node name look like (the engine already refuses empty strings). */
const TALOS_ROLE = { re: /^os:[a-z:]+$/, text: 'a Talos role such as os:operator' };
const NODE_NAME = { re: /^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/, text: 'a Kubernetes node name (lower-case DNS subdomain)' };

/** The first --allow-exec entry that cannot be used, said as the error; undefined when all parse. */
function execRuleProblem(entries: readonly string[]): string | undefined {
  for (const entry of entries) {
    if (entry === '*') continue;
    try {
      parseExecRule(entry);
    } catch (err) {
      return `has an entry that cannot be used: ${(err as Error).message}`;
    }
  }
  return undefined;
}

/** --listen: tls://ADDR:PORT, ADDR an IPv4 address, a bracketed IPv6 address or a host name. */
export const LISTEN_RE = /^tls:\/\/(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9.-]+):(\d{1,5})$/;

/** A duration text (kube/duration.ts) within [min, max] ms, kept as written so --dump-conf reads back. */
function duration(min: number, max: number, range: string) {
  return (v: unknown): string | undefined => {
    const ms = parseDuration(String(v));
    return ms !== undefined && ms >= min && ms <= max ? undefined : `must be a duration from ${range}, like 30s or 5m`;
  };
}

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
    help: "directory for persistent state (file handle counter, frozen marker); must belong to the agent's user and not be writable by group or others",
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
    wildcard: '*',
    check: (v) => execRuleProblem(v as readonly string[]),
    group: 'guestlink',
    type: 'list',
    default: [],
    help: 'programs guest-exec may run, by absolute path (enables guest-exec; "*" allows any); an entry "PROGRAM ARG..." allows only exactly these arguments, ending it with "..." allows more after them (%20 writes a space, %2C a comma inside an argument); otherwise arguments are free',
  },
  {
    key: 'allow-exec-env',
    pattern: { re: ENV_NAME, text: 'an environment variable name (letters, digits and _, not starting with a digit)' },
    group: 'guestlink',
    type: 'list',
    default: [],
    help: 'environment variables a guest-exec request may set; programs otherwise get only PATH (--exec-path) and LANG=C; loader and runtime variables (LD_*, GCONV_PATH, NODE_OPTIONS, PYTHONPATH, BASH_ENV, ...) are refused even when listed',
  },
  {
    key: 'exec-path',
    check: (v) => ((v as string).split(':').every((d) => path.isAbsolute(d)) ? undefined : 'must be absolute directories separated by ":"'),
    group: 'guestlink',
    type: 'string',
    default: '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin',
    help: "PATH given to guest-exec programs and used to find a program named without a '/' (absolute directories only)",
  },
  {
    key: 'max-exec-processes',
    min: 1,
    max: 4096,
    group: 'guestlink',
    type: 'int',
    // Proxmox and libvirt run one command at a time; 16 leaves room for a few clients and forgotten statuses.
    default: 16,
    help: 'guest-exec processes kept at once, running or exited but not yet reported by guest-exec-status; more are refused until one is collected',
  },
  {
    key: 'max-exec-output-bytes',
    min: 0,
    group: 'guestlink',
    type: 'int',
    // Four full streams at qemu-ga's 16 MiB per stream; fits the DaemonSet's 256Mi limit with the request buffer.
    default: 64 << 20,
    help: 'captured output kept for unreported guest-exec processes, all together (each stream also stops at 16 MiB, as in qemu-ga); output past it is dropped and flagged truncated',
  },
  {
    key: 'max-exec-input-bytes',
    min: 0,
    group: 'guestlink',
    type: 'int',
    // Twice qemu-ga's per-stream output cap; the largest input-data a 64 MiB request can carry is 48 MiB.
    default: 32 << 20,
    help: 'guest-exec input-data held for programs that have not read it yet, all together; a request whose input-data does not fit is refused',
  },
  {
    key: 'allow-account-changes',
    group: 'guestlink',
    type: 'bool',
    default: false,
    help: 'enable guest-set-user-password and guest-ssh-add/remove-authorized-keys (off: whoever drives the agent channel could make themselves root); naming one in --allow-rpcs enables it too',
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
    key: 'allow-file-hardlinks',
    group: 'guestlink',
    type: 'bool',
    default: false,
    help: 'let guest-file-open open files that have other hard links (another name of such a file may be outside the allow-lists)',
  },
  {
    key: 'max-file-handles',
    // At most 65536, far below what a process may hold open, so the cap is met before the OS's EMFILE.
    min: 1,
    max: 65536,
    group: 'guestlink',
    type: 'int',
    default: 128,
    help: 'guest-file-* handles open at once, across all connections (handles outlive their connection, as in qemu-ga); more opens get a GenericError',
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
    help: 'largest request accepted (qemu-ga: 64 MiB); larger ones get a GenericError. The token limit scales with it: a token per 128 bytes (512k at 64 MiB; qemu-ga: 2M)',
  },
  {
    key: 'max-buffered-request-bytes',
    // At least 1 KiB; at most 1 GiB (past that nothing is bounded in practice).
    min: 1024,
    max: 1 << 30,
    group: 'guestlink',
    type: 'int',
    help: "bytes the requests in progress on all connections may hold together (each one's first 64 KiB free); the request that would go past it gets a GenericError. Default: max-request-bytes (one largest request at a time)",
  },
  {
    key: 'max-connections',
    min: 1,
    max: 1024,
    group: 'guestlink',
    type: 'int',
    default: 16,
    help: 'unix-listen: hosts connected at once; one more gets a GenericError line and is disconnected',
  },
  {
    key: 'max-queued-reply-bytes',
    // At least one 64 KiB chunk; at most 1 GiB.
    min: 64 << 10,
    max: 1 << 30,
    group: 'guestlink',
    type: 'int',
    default: 64 << 20,
    help: 'replies written but not yet taken by hosts, all connections together (one reply is always taken); unix-listen disconnects the host whose reply would go past it, virtio-serial and isa-serial drop the reply',
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
    key: 'listen',
    pattern: { re: LISTEN_RE, text: 'tls://ADDR:PORT (ADDR an IP address, [IPv6] or a host name)' },
    group: 'guestlink',
    type: 'string',
    help: 'management endpoint: serve QGA over mutual TLS 1.3 at tls://ADDR:PORT (off by default) to Kubernetes users, authorized by RBAC on nodes/guestlink through SubjectAccessReviews; needs a cluster (--kube) and a serving certificate (--identity); see docs/identity.md',
  },
  {
    key: 'listen-max-connections',
    min: 1,
    max: 10_000,
    group: 'guestlink',
    type: 'int',
    default: 32,
    help: 'management-endpoint connections at once (handshaking ones included); more are closed on accept',
  },
  {
    key: 'listen-handshake-timeout',
    check: duration(100, 300_000, '100ms to 5m'),
    group: 'guestlink',
    type: 'string',
    default: '10s',
    help: 'a TLS handshake must finish within this (and, with --listen-tokens, guestlink-authenticate must follow within it again)',
  },
  {
    key: 'listen-idle-timeout',
    check: duration(1000, 86_400_000, '1s to 24h'),
    group: 'guestlink',
    type: 'string',
    default: '5m',
    help: 'a management-endpoint connection that sends nothing for this long is closed',
  },
  {
    key: 'listen-max-request-bytes',
    min: 1024,
    max: 64 << 20,
    group: 'guestlink',
    type: 'int',
    default: 4 << 20,
    help: 'largest request on the management endpoint (the CLI writes files in 1 MiB chunks, 1.4 MB of base64); bounds memory to connections x this',
  },
  {
    key: 'listen-tokens',
    group: 'guestlink',
    type: 'bool',
    default: false,
    help: 'also let clients without a certificate in, to authenticate with a bearer token (guestlink-authenticate, checked by a TokenReview)',
  },
  {
    key: 'token-audience',
    group: 'guestlink',
    type: 'string',
    default: 'guestlink',
    help: 'the audience bearer tokens must be minted for (kubectl create token NAME --audience guestlink): a token for the API server is refused',
  },
  {
    key: 'identity',
    group: 'guestlink',
    type: 'string',
    default: 'auto',
    choices: ['auto', 'off', 'csr', 'files'],
    help: "the endpoint's serving certificate: csr (ECDSA key made here, certificate from the cluster's CSR API, kept in <statedir>/crypto and renewed at two thirds of its life), files (--tls-cert/--tls-key, such as cert-manager's, re-read when they change), auto (files when --tls-cert is given, else csr when --listen is set), off (no endpoint)",
  },
  {
    key: 'tls-cert',
    absolute: true,
    group: 'guestlink',
    type: 'string',
    help: 'with --identity files: PEM certificate chain the endpoint serves',
  },
  { key: 'tls-key', absolute: true, group: 'guestlink', type: 'string', help: 'with --identity files: PEM private key of --tls-cert' },
  {
    key: 'tls-client-ca',
    absolute: true,
    group: 'guestlink',
    type: 'string',
    help: "PEM CA bundle client certificates must chain to (default: the cluster CA, the service account's ca.crt or the kubeconfig's)",
  },
  {
    key: 'csr-signer',
    pattern: { re: /^[a-z0-9.-]+\/[A-Za-z0-9._-]+$/, text: 'a signerName such as kubernetes.io/kubelet-serving' },
    group: 'guestlink',
    type: 'string',
    default: 'kubernetes.io/kubelet-serving',
    help: 'signerName of the CSR (kubelet-serving: signed by the cluster CA, which clients already trust); another for clusters with their own signer',
  },
  {
    key: 'csr-approve',
    group: 'guestlink',
    type: 'string',
    default: 'external',
    choices: ['external', 'self'],
    help: 'who approves the CSR: external (an operator or approver; the log and a Node event name the kubectl command) or self (the agent approves its own after checking it; needs approve on the signer, see docs/security.md)',
  },
  {
    key: 'csr-expiration',
    // The CSR API refuses expirationSeconds below 600.
    check: duration(600_000, 8760 * 3_600_000, '10m to 8760h'),
    group: 'guestlink',
    type: 'string',
    default: '720h',
    help: 'expirationSeconds asked for (10m to 8760h; the signer may issue shorter); renewal comes at two thirds of the lifetime',
  },
  {
    key: 'authz-timeout',
    check: duration(100, 30_000, '100ms to 30s'),
    group: 'guestlink',
    type: 'string',
    default: '2s',
    help: 'a SubjectAccessReview or TokenReview must be answered within this, else the request is denied (fail closed)',
  },
  {
    key: 'authz-cache-ttl',
    check: duration(0, 3_600_000, '0 to 1h'),
    group: 'guestlink',
    type: 'string',
    default: '30s',
    help: 'how long an allowed decision is cached (denials: 5 s at most); 0 asks the API server on every request',
  },
  {
    key: 'authz-cache-size',
    min: 1,
    max: 1_000_000,
    group: 'guestlink',
    type: 'int',
    default: 1024,
    help: 'cached authorization decisions (user, groups, verb); the oldest are dropped first',
  },
  {
    key: 'authz-max-pending',
    min: 1,
    max: 10_000,
    group: 'guestlink',
    type: 'int',
    default: 64,
    help: 'authorization reviews waiting for the API server at once; requests beyond it are denied at once',
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
