// The Kubernetes lifecycle: whether it runs, how it finds the API server and the Node, and the drain.
// One part of the agent's settings table: src/agent/settings.ts joins the parts, in a fixed order.
import { parseDuration } from '../../kube/duration.js';
import type { SettingSpec } from '../../settings/index.js';

/** What a Kubernetes node name looks like (the engine already refuses empty strings). */
const NODE_NAME = { re: /^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/, text: 'a Kubernetes node name (lower-case DNS subdomain)' };

/** The kubernetes settings, in their --help and docs order. */
export const KUBERNETES = [
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
] as const satisfies readonly SettingSpec[];
