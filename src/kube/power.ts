// The Power that wraps a node back end's Power: before a hypervisor's shutdown/reboot/halt it
// cordons and drains the Node (unless the OS drains by itself), all within one deadline, then hands
// the action to the back end. The hypervisor's request is never lost: when the deadline passes,
// drain-on-timeout decides (proceed, the default, or abort with the reason as the QGA error), and
// an unreachable API server only uses up the deadline, never more.
import type { Logger } from 'pino';
import type { Power, ShutdownMode, SuspendMode } from '../node/interfaces.js';
import type { KubeApi } from './api.js';
import { cordonNode, type LifecycleRecord, markPhase, releaseNode } from './cordon.js';
import { type DrainOptions, type DrainResult, drainNode } from './drain.js';
import { formatDuration } from './duration.js';
import { KubeError } from './errors.js';
import type { Recorder } from './events.js';

export type DrainPolicy = 'auto' | 'always' | 'never';
export type TimeoutPolicy = 'proceed' | 'abort';

export interface LifecycleOptions {
  api: KubeApi;
  nodeName: string;
  bootId: string;
  drain: DrainPolicy;
  /** The whole budget from request to power action (cordon, evictions, waiting, events). */
  timeoutMs: number;
  onTimeout: TimeoutPolicy;
  recorder: Recorder;
  log: Logger;
  /** Test and benchmark knobs (retry and poll periods, concurrency). */
  tuning?: Pick<DrainOptions, 'retryMs' | 'pollMs' | 'callTimeoutMs' | 'concurrency'>;
}

interface Verdict {
  proceed: boolean;
  reason: string;
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, Math.max(0, ms)));

export class KubePower implements Power {
  readonly name: string;
  /** A drain under way: a second request for the same machine joins it instead of starting over. */
  private inflight: Promise<Verdict> | undefined;

  constructor(
    private readonly inner: Power,
    private readonly o: LifecycleOptions,
  ) {
    this.name = inner.name;
  }

  suspend(mode: SuspendMode): Promise<void> {
    // A suspended node keeps its pods (frozen, not killed): nothing to drain.
    return this.inner.suspend(mode);
  }

  drainsItself(mode: ShutdownMode): boolean {
    return this.inner.drainsItself?.(mode) === true;
  }

  /** --drain auto drains unless the back end's OS does it itself (Talos Shutdown does; Reboot does not). */
  needsDrain(mode: ShutdownMode): boolean {
    if (this.o.drain === 'never') return false;
    if (this.o.drain === 'always') return true;
    return this.inner.drainsItself?.(mode) !== true;
  }

  async shutdown(mode: ShutdownMode): Promise<void> {
    if (!this.needsDrain(mode)) {
      this.o.log.info(
        { kube: 'NoDrain', node: this.o.nodeName, mode, drain: this.o.drain },
        `${mode}: not draining (${this.o.drain === 'never' ? '--drain never' : `${this.inner.name} drains the node itself`})`,
      );
      return this.inner.shutdown(mode);
    }
    const deadline = Date.now() + this.o.timeoutMs;
    this.inflight ??= this.prepare(mode, deadline, false).finally(() => (this.inflight = undefined));
    await this.act(mode, await this.inflight);
  }

  /**
   * The agent restarted in the same boot while a drain was under way: the hypervisor took the
   * dropped connection for success (libvirt and Proxmox both do for guest-shutdown) and waits for
   * the VM to stop, so the request still stands. Continue the drain until the recorded deadline,
   * then act as the policy says; a request arriving meanwhile joins this one.
   */
  async resume(record: LifecycleRecord): Promise<void> {
    if (this.inflight) return;
    this.inflight = this.prepare(record.mode, Date.parse(record.deadline) || Date.now(), true).finally(() => (this.inflight = undefined));
    try {
      await this.act(record.mode, await this.inflight);
    } catch (err) {
      this.o.log.warn({ kube: 'DrainResumed', err: (err as Error).message }, 'the resumed power action did not happen');
    }
  }

  private async act(mode: ShutdownMode, verdict: Verdict): Promise<void> {
    const { recorder, api, nodeName, bootId, log } = this.o;
    if (!verdict.proceed) throw new KubeError('KUBE_DRAIN_ABORTED', verdict.reason);
    try {
      await this.inner.shutdown(mode);
    } catch (err) {
      recorder.record('PowerActionFailed', `${mode} failed after the drain: ${(err as Error).message}; uncordoning`, { mode }, 'Warning');
      this.releaseInBackground();
      throw err;
    }
    // Best effort, after the fact: a later start in this same boot then knows the OS was asked.
    markPhase(api, nodeName, bootId, 'handed-over', () => 5000).catch((err: Error) =>
      log.debug({ kube: 'handed-over', err: err.message }, 'could not mark the lifecycle record'),
    );
  }

  /** Cordon, drain, decide; resolves by the deadline whatever the API server does. */
  private async prepare(mode: ShutdownMode, deadline: number, resumed: boolean): Promise<Verdict> {
    const { recorder, api, nodeName, bootId, onTimeout } = this.o;
    const left = () => deadline - Date.now();
    const timeout = () => Math.max(1, Math.min(this.o.tuning?.callTimeoutMs ?? 10_000, left()));
    const budget = formatDuration(Math.max(0, left()));
    if (resumed) recorder.record('DrainResumed', `agent restarted during the drain for ${mode}: resuming, ${budget} left`, { mode });
    else recorder.record('ShutdownRequested', `hypervisor requested ${mode}: cordoning and draining within ${budget}`, { mode });

    let result: DrainResult | undefined;
    let why = '';
    let cordoned = false;
    if (left() > 0) {
      const record: Omit<LifecycleRecord, 'cordoned'> = {
        bootId,
        mode,
        requested: new Date().toISOString(),
        deadline: new Date(deadline).toISOString(),
        phase: 'draining',
      };
      for (;;) {
        try {
          const c = await cordonNode(api, nodeName, record, timeout);
          cordoned = true;
          recorder.nodeUid = c.uid;
          recorder.record('Cordoned', c.already ? 'node was cordoned already; draining' : 'cordoned for the power action', {
            cordonedByGuestlink: c.cordoned,
          });
          break;
        } catch (err) {
          why = (err as Error).message;
          // Unreachable or conflicting: try again while the deadline allows (an API server restart
          // during a rolling reboot of the control plane is the common case); anything else is final.
          if (!(err instanceof KubeError && err.retriable) || left() <= 1000) break;
          await sleep(Math.min(1000, left() - 1000));
        }
      }
      if (cordoned) {
        result = await drainNode({
          api,
          nodeName,
          deadline,
          ...this.o.tuning,
          onBlocked: (pod, msg) => recorder.record('EvictionBlocked', `eviction of ${pod} refused, retrying: ${msg}`, { pod }, 'Warning'),
        });
        if (result.outcome === 'drained')
          recorder.record('Drained', `drained ${result.total} pods in ${formatDuration(result.ms)}`, {
            pods: result.total,
            evicted: result.evicted,
            skippedDaemonSet: result.skipped.daemonSet,
            skippedMirror: result.skipped.mirror,
            ms: result.ms,
          });
        else {
          why = `${result.remaining.length} of ${result.total} pods not drained${result.blocked.length ? `, ${result.blocked.length} blocked by a PodDisruptionBudget (${result.blocked.slice(0, 5).join(', ')})` : ''}${result.errors.length ? `: ${result.errors.slice(0, 3).join('; ')}` : ''}`;
          recorder.record(
            result.outcome === 'timeout' ? 'DrainTimedOut' : 'DrainFailed',
            `${result.outcome === 'timeout' ? `drain deadline passed: ${why}` : `drain cannot complete: ${why}`}`,
            { remaining: result.remaining, blocked: result.blocked, errors: result.errors, ms: result.ms },
            'Warning',
          );
        }
      } else recorder.record('DrainFailed', `could not cordon: ${why}`, { error: why }, 'Warning');
    } else why = 'the deadline had passed when the agent restarted';

    let verdict: Verdict;
    if (result?.outcome === 'drained') {
      verdict = { proceed: true, reason: 'drained' };
      recorder.record('Proceeding', `proceeding with ${mode}`, { mode });
    } else if (onTimeout === 'proceed') {
      verdict = { proceed: true, reason: why };
      recorder.record(
        'Proceeding',
        `proceeding with ${mode} undrained (drain-on-timeout proceed): ${why}`,
        { mode, drained: false },
        'Warning',
      );
    } else {
      verdict = {
        proceed: false,
        reason: `${mode} refused: the node was not drained (${why}) and drain-on-timeout is abort; the node is being uncordoned. Retry later, raise --drain-timeout, or set --drain-on-timeout proceed`,
      };
      recorder.record('DrainAborted', `${mode} not done (drain-on-timeout abort): ${why}`, { mode }, 'Warning');
      this.releaseInBackground();
    }
    // Let the events reach the API (the machine may be gone soon after), but a slow API server
    // gets 2 s at most, and never time past the deadline.
    await recorder.flush(Math.min(deadline, Date.now() + 2000));
    return verdict;
  }

  /** Uncordons (only if guestlink cordoned) and clears the record, without holding up the caller. */
  private releaseInBackground(): void {
    const { api, nodeName, bootId, recorder, log } = this.o;
    releaseNode(api, nodeName, bootId, () => 10_000).then(
      (r) => r === 'uncordoned' && recorder.record('Uncordoned', 'uncordoned: the power action is not happening'),
      (err: Error) => log.warn({ kube: 'Uncordoned', err: err.message }, 'could not undo the cordon; run kubectl uncordon'),
    );
  }
}
