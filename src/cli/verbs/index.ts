// The verb table, in the order --help lists them.
import { call } from './call.js';
import { commands } from './commands.js';
import { completionVerb } from './completion.js';
import { cp } from './cp.js';
import { etcdSnapshot } from './etcd-snapshot.js';
import { exec } from './exec.js';
import { kubeconfig } from './kubeconfig.js';
import { reboot, shutdown } from './power.js';
import { fsinfo, info, ips, osinfo, ping, time } from './query.js';
import { rollout } from './rollout.js';
import type { Verb } from './types.js';

export const VERBS: readonly Verb[] = [
  ping,
  info,
  osinfo,
  ips,
  fsinfo,
  time,
  exec,
  cp,
  kubeconfig,
  etcdSnapshot,
  shutdown,
  reboot,
  rollout,
  call,
  commands,
  // The raw verbs (cloud-init, talos) are added by the completion itself, with their own tables.
  completionVerb(() => VERBS.map((v) => v.name)),
];

export function findVerb(name: string): Verb | undefined {
  return VERBS.find((v) => v.name === name);
}
