// The rollout verb's options, added to the CLI's one option table (src/cli/options.ts), so --help,
// the per-verb check and shell completion know them.
import { ORDERS } from '../../host/rollout/plan.js';
import type { OptionSpec } from '../options.js';

const R = ['rollout'] as const;

/** The rollout verb's entries of the CLI option table. */
export const ROLLOUT_OPTIONS: readonly OptionSpec[] = [
  // --kubeconfig and --context are the CLI's global ones (tls://, node:// and rollout share them).
  {
    name: 'node-map',
    type: 'string',
    multiple: true,
    arg: 'VM=NODE',
    verbs: R,
    help: "which Node a VM is (default: the guest's host name)",
  },
  { name: 'dry-run', type: 'boolean', verbs: R, help: 'print the plan and the gates as they stand now; change nothing' },
  { name: 'order', type: 'string', choices: ORDERS, arg: 'ORDER', verbs: R, help: 'workers-first (default), control-planes-first, given' },
  {
    name: 'max-unavailable',
    type: 'string',
    arg: 'N',
    verbs: R,
    help: 'worker nodes rebooted at once (default 1; control-plane nodes: always 1)',
  },
  { name: 'ignore-cordoned', type: 'boolean', verbs: R, help: 'go ahead although someone else cordoned a node' },
  { name: 'node-timeout', type: 'string', arg: 'DURATION', verbs: R, help: 'reboot request to node back, Ready, uncordoned (default 15m)' },
  {
    name: 'settle-timeout',
    type: 'string',
    arg: 'DURATION',
    verbs: R,
    help: 'for workloads and budgets to recover after a batch (default 5m)',
  },
  {
    name: 'state',
    type: 'string',
    arg: 'FILE',
    verbs: R,
    help: 'the state file (default $XDG_STATE_HOME/guestlink/rollout-<cluster>.json)',
  },
  { name: 'resume', type: 'boolean', verbs: R, help: 'continue the rollout recorded in the state file' },
];
