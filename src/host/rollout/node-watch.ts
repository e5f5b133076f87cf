// One node's way through its reboot, decided from what the API says about the Node and what the
// agent answered — no I/O here, so every transition is unit-tested. The evidence, in order:
// cordoned (spec.unschedulable, by the agent's drain or the OS's own) → down (not Ready) → booted
// (status.nodeInfo.bootID differs from the one before) → Ready → uncordoned (the agent removed its
// lifecycle record and, if it had cordoned, spec.unschedulable). A new boot id without a cordon
// first means nobody drained it; a cordon undone with the same boot id means the agent gave the
// reboot up (drain aborted, power action failed); an error answer from the agent is final.
import { formatDuration } from '../../kube/duration.js';
import type { Phase } from './events.js';
import { printable } from './names.js';
import type { NodeView } from './views.js';

/** What one look at the Node decided. */
export type WatchResult = { kind: 'continue' } | { kind: 'done'; bootIdAfter: string } | { kind: 'failed'; message: string };

/** How long after a failed delivery of the reboot request we wait for any sign of it before giving up. */
export const UNDELIVERED_GRACE_MS = 120_000;

/** What is known when the reboot is requested. */
export interface WatchStart {
  node: string;
  bootIdBefore: string;
  /** Cordoned by someone else before the rollout (--ignore-cordoned): the agent will not uncordon it. */
  cordonedBefore: boolean;
  /** When the reboot was requested (ms). */
  requestedAt: number;
  nodeTimeoutMs: number;
}

/** One node's reboot, judged from successive looks at its Node. */
export class NodeWatch {
  phase: Phase = 'requested';
  detail = '';
  /** The phase a failure happened in. */
  failedIn: Phase | undefined;
  /** Something the user should know although the node is fine (reported with the node's result). */
  warning: string | undefined;
  /** The API was out of reach at some point before the new boot id was seen. */
  private blindSpot = false;
  private cordonSeen = false;
  private recordSeen = false;
  private booted: string | undefined;
  private replyError: string | undefined;
  private undeliveredAt: number | undefined;

  constructor(readonly s: WatchStart) {}

  get deadline(): number {
    return this.s.requestedAt + this.s.nodeTimeoutMs;
  }

  /** The agent refused the request (a QGA error reply): final unless the node rebooted anyway. */
  refused(desc: string): void {
    this.replyError = desc;
  }

  /** The API could not be read this time: what happened meanwhile may go unseen. */
  blind(): void {
    if (!this.booted) this.blindSpot = true;
  }

  /** The request may not have reached the agent (unreachable, timed out in transit). */
  undelivered(why: string, now: number): void {
    this.undeliveredAt ??= now;
    this.detail = `reboot request: ${why}`;
  }

  observe(n: NodeView | undefined, now: number): WatchResult {
    const name = printable(this.s.node);
    if (!n) {
      this.detail = `Node ${name} not found (re-registering?)`;
      return this.timeoutCheck(now);
    }
    if (n.bootId && n.bootId !== this.s.bootIdBefore && !this.booted) {
      this.booted = n.bootId;
      if (!this.cordonSeen && !this.s.cordonedBefore && !n.unschedulable) {
        // Only a conclusion when the API was in sight all along: with a gap (the API server was on
        // the node that rebooted), the cordon may have come and gone unseen.
        if (!this.blindSpot)
          return this.fail(
            `Node ${name} rebooted (boot id ${printable(this.s.bootIdBefore, 40)} -> ${printable(n.bootId, 40)}) without being cordoned and drained first: is its agent's Kubernetes lifecycle on (--kube, --kubeconfig, or the DaemonSet)? Stopping before the next node`,
          );
        this.warning = `no cordon was seen before the reboot, but the API server was out of reach for a while, so it may have come and gone unseen`;
      }
    }
    if (n.unschedulable) this.cordonSeen = true;
    if (n.lifecycle && n.lifecycle.bootId === this.s.bootIdBefore) this.recordSeen = true;
    if (!this.booted) {
      if (this.replyError !== undefined)
        return this.fail(`the agent on ${name} refused the reboot: ${printable(this.replyError, 500)}; the node was not rebooted`);
      const undone =
        n.ready && ((this.recordSeen && !n.lifecycle) || (this.cordonSeen && !this.s.cordonedBefore && !n.unschedulable && !n.lifecycle));
      if (undone)
        return this.fail(
          `the agent cordoned ${name} and then undid the cordon without rebooting (its drain was aborted or the power action failed): see kubectl describe node ${name}`,
        );
      if (this.undeliveredAt !== undefined && !this.cordonSeen && now - this.undeliveredAt > UNDELIVERED_GRACE_MS)
        return this.fail(`the reboot request did not reach the agent on ${name} (${this.detail}); the node was not rebooted`);
      this.set(!n.ready ? 'down' : this.cordonSeen ? 'cordoned' : 'requested', n.ready ? '' : 'not Ready');
      return this.timeoutCheck(now);
    }
    if (!n.ready) {
      this.set('booted', `new boot id ${printable(this.booted, 40)}, not Ready yet`);
      return this.timeoutCheck(now);
    }
    const stillCordoned = n.unschedulable && !this.s.cordonedBefore;
    if (n.lifecycle || stillCordoned) {
      this.set('ready', 'Ready, waiting for the agent to uncordon it');
      return this.timeoutCheck(now);
    }
    this.set('uncordoned', '');
    return { kind: 'done', bootIdAfter: this.booted };
  }

  private set(phase: Phase, detail: string): void {
    this.phase = phase;
    this.detail = detail;
  }

  private fail(message: string): WatchResult {
    this.failedIn ??= this.phase;
    this.phase = 'failed';
    return { kind: 'failed', message };
  }

  /** The deadline check, with what was last seen, for the message. */
  timeoutCheck(now: number, apiError?: string): WatchResult {
    if (now <= this.deadline) return { kind: 'continue' };
    const name = printable(this.s.node);
    const where =
      this.phase === 'ready'
        ? `it is back (new boot id) and Ready, but still cordoned: its agent has not uncordoned it (is the agent running there? kubectl uncordon ${name} once checked)`
        : this.phase === 'booted'
          ? 'it booted again (new boot id) but its Node is not Ready'
          : this.phase === 'down'
            ? 'it went down and has not come back (the boot id is unchanged): look at its console'
            : this.phase === 'cordoned'
              ? 'it is cordoned (draining) but has not rebooted'
              : 'no sign of the reboot (not cordoned, boot id unchanged)';
    return this.fail(
      `Node ${name} did not come back within --node-timeout ${formatDuration(this.s.nodeTimeoutMs)}: ${where}${apiError ? `; last API error: ${printable(apiError, 300)}` : ''}. It is left as it is`,
    );
  }
}
