// What the agent does with the Node once it runs: if a lifecycle record of an earlier boot is on
// it, wait until the Node is Ready again (reported by this boot's kubelet) and undo guestlink's
// cordon; a node somebody else cordoned keeps its cordon. A record of this same boot means the
// agent restarted mid-drain (resume it) or after handing the action to the OS (leave it, warn).
import type { Logger } from 'pino';
import type { KubeApi } from './api.js';
import { isReady, lifecycleRecord, releaseNode } from './cordon.js';
import { KubeError } from './errors.js';
import type { Recorder } from './events.js';
import type { KubePower } from './power.js';

export interface AfterStartOptions {
  api: KubeApi;
  nodeName: string;
  bootId: string;
  /** Epoch ms this boot started: a Ready heartbeat older than this is the last boot's. */
  bootTime: number;
  power: KubePower;
  recorder: Recorder;
  log: Logger;
  /** Between checks while the Node is not Ready or the API is unreachable (grows to 6x). */
  pollMs?: number;
  /** Set to stop the loop (agent shutdown, tests). */
  stopped?: () => boolean;
}

export type AfterStartOutcome = 'nothing' | 'uncordoned' | 'record-removed' | 'resumed' | 'still-up' | 'stopped';

const sleep = (ms: number) =>
  new Promise<void>((r) => {
    // Never the reason the agent stays alive.
    setTimeout(r, ms).unref();
  });

export async function afterStart(o: AfterStartOptions): Promise<AfterStartOutcome> {
  const base = o.pollMs ?? 5000;
  let wait = base;
  let waitingLogged = false;
  let missingLogged = false;
  while (!o.stopped?.()) {
    try {
      const node = await o.api.getNode(o.nodeName, 10_000);
      o.recorder.nodeUid = node.metadata.uid;
      const record = lifecycleRecord(node);
      if (!record) return 'nothing';
      if (record.bootId === o.bootId) {
        if (record.phase === 'draining') {
          void o.power.resume(record);
          return 'resumed';
        }
        o.recorder.record(
          'StillUp',
          `the ${record.mode} was handed to the OS but this boot is still running: leaving the node cordoned; run kubectl uncordon ${o.nodeName} and remove the ${'guestlink.io/lifecycle'} annotation if it should serve again`,
          { mode: record.mode },
          'Warning',
        );
        return 'still-up';
      }
      if (isReady(node, o.bootTime)) {
        const r = await releaseNode(o.api, o.nodeName, record.bootId, () => 10_000);
        if (r === 'uncordoned')
          o.recorder.record('Uncordoned', `node is Ready after the ${record.mode}: uncordoned`, { mode: record.mode });
        else if (r === 'record-removed')
          o.log.info(
            { kube: 'Uncordoned', node: o.nodeName, cordonedByGuestlink: record.cordoned },
            "lifecycle record removed; the cordon was not guestlink's to undo",
          );
        return r === 'nothing' ? 'nothing' : r;
      }
      if (!waitingLogged)
        o.log.info(
          { kube: 'WaitingReady', node: o.nodeName },
          'guestlink cordoned this node before the last power action: uncordoning once it is Ready',
        );
      waitingLogged = true;
      wait = base;
    } catch (err) {
      const e = err as KubeError;
      // 404: the kubelet has not registered the Node yet. Unreachable: the API server is not up yet.
      if (!(e instanceof KubeError) || !(e.retriable || e.status === 404)) {
        o.log.warn({ kube: 'AfterStart', err: e.message }, 'cannot check the node for a cordon to undo; giving up');
        return 'nothing';
      }
      if (e.status === 404 && !missingLogged)
        o.log.warn(
          { kube: 'AfterStart', node: o.nodeName },
          `Node ${o.nodeName} not found (yet): waiting for the kubelet to register it; check --node-name if this persists`,
        );
      if (e.status === 404) missingLogged = true;
      wait = Math.min(wait * 2, base * 6);
    }
    await sleep(wait);
  }
  return 'stopped';
}
