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
import { RAW_VERBS } from './raw.js';
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
  completionVerb(() => [...VERBS.map((v) => v.name), ...Object.keys(RAW_VERBS)]),
];

export function findVerb(name: string): Verb | undefined {
  return VERBS.find((v) => v.name === name);
}
