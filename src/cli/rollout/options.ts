// The rollout verb's options, added to the CLI's one option table (src/cli/options.ts), so the parser,
// the per-verb check, --help, shell completion and docs/cli.md know them.
// plan.js, not the rollout's index: the option table is loaded on every CLI run, the rollout only for its verb.
import { ORDERS } from '../../host/rollout/plan.js';
import type { SettingSpec } from '../../settings/index.js';

const R = ['rollout'] as const;

// The durations are kept as written (they are echoed in the resume command) and checked by the verb
// (command-line.ts), which has the duration parser loaded.

/** Default --node-timeout: a VM's reboot is 1-3 min, a Talos upgrade's ~5, a Proxmox drain up to 9m30s. */
export const DEFAULT_NODE_TIMEOUT = '15m';
/** Default --settle-timeout: pods restarting elsewhere and a DaemonSet pod on the rebooted node, image pulls included. */
export const DEFAULT_SETTLE_TIMEOUT = '5m';

/** The rollout verb's entries of the CLI option table. */
export const ROLLOUT_OPTIONS = [
  // --kubeconfig and --context are the CLI's global ones (tls://, node:// and rollout share them).
  {
    key: 'node-map',
    type: 'list',
    split: 'none',
    arg: 'VM=NODE',
    verbs: R,
    help: "which Node a VM is (default: the guest's host name)",
  },
  { key: 'dry-run', type: 'bool', verbs: R, help: 'print the plan and the gates as they stand now; change nothing' },
  {
    key: 'order',
    type: 'string',
    choices: ORDERS,
    default: 'workers-first',
    arg: 'ORDER',
    verbs: R,
    help: 'which nodes go first (given: the order of the VMs on the command line)',
  },
  {
    key: 'max-unavailable',
    type: 'int',
    min: 1,
    max: 999_999,
    default: 1,
    arg: 'N',
    verbs: R,
    help: 'worker nodes rebooted at once (control-plane nodes: always 1)',
  },
  { key: 'ignore-cordoned', type: 'bool', verbs: R, help: 'go ahead although someone else cordoned a node' },
  {
    key: 'node-timeout',
    type: 'string',
    default: DEFAULT_NODE_TIMEOUT,
    arg: 'DURATION',
    verbs: R,
    help: 'reboot request to node back, Ready, uncordoned',
  },
  {
    key: 'settle-timeout',
    type: 'string',
    default: DEFAULT_SETTLE_TIMEOUT,
    arg: 'DURATION',
    verbs: R,
    help: 'for workloads and budgets to recover after a batch',
  },
  {
    key: 'state',
    type: 'string',
    arg: 'FILE',
    completeFiles: true,
    verbs: R,
    help: 'the state file (default $XDG_STATE_HOME/guestlink/rollout-<cluster>.json)',
  },
  { key: 'resume', type: 'bool', verbs: R, help: 'continue the rollout recorded in the state file' },
] as const satisfies readonly SettingSpec[];
