// kubectl's drain algorithm (kubectl/pkg/drain) against one global deadline: list the node's pods,
// filter (pods.ts), evict in parallel through policy/v1, retry a 429 (PodDisruptionBudget, or API
// priority and fairness) every 5 s, and wait until each pod is gone or replaced under the same name
// with a new UID. Never throws: the result says what happened, so the caller applies its policy.
import type { KubeApi, PodObject } from './api.js';
import { KubeError } from './errors.js';
import { podAction, podKey } from './pods.js';

export interface DrainOptions {
  api: KubeApi;
  nodeName: string;
  /** Epoch ms at which the drain stops, finished or not. */
  deadline: number;
  /** At most this many eviction calls in flight (default 32, the client's socket pool). */
  concurrency?: number;
  /** Between retries of an eviction refused with 429 (kubectl: 5 s). */
  retryMs?: number;
  /** Between checks that evicted pods are gone (kubectl: 1 s). */
  pollMs?: number;
  /** Longest single API call (shortened near the deadline). */
  callTimeoutMs?: number;
  /** Told once per pod when a budget first blocks it, and once per evicted pod. */
  onBlocked?: (pod: string, message: string) => void;
  onEvicted?: (pod: string) => void;
}

export interface DrainResult {
  /** drained: every pod gone; timeout: the deadline came first; failed: a pod cannot be evicted at all. */
  outcome: 'drained' | 'timeout' | 'failed';
  /** Pods the drain acted on (evicted or waited for). */
  total: number;
  /** Evictions the API accepted. */
  evicted: number;
  skipped: { daemonSet: number; mirror: number };
  /** Pods still on the node at the end, and those a budget was blocking then. */
  remaining: string[];
  blocked: string[];
  errors: string[];
  ms: number;
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, Math.max(0, ms)));

/** The message an eviction's Status carries, with its causes (the budget that refused). */
function statusMessage(body: unknown): string {
  const s = (body && typeof body === 'object' ? body : {}) as { message?: string; details?: { causes?: { message?: string }[] } };
  const causes = (s.details?.causes ?? []).map((c) => c.message).filter(Boolean);
  return [s.message, ...causes].filter(Boolean).join(' ') || 'no reason given';
}

type PodState = 'evicting' | 'waiting' | 'gone' | 'failed';

/** Drains the node; resolves by the deadline at the latest. */
export async function drainNode(o: DrainOptions): Promise<DrainResult> {
  const t0 = Date.now();
  const retryMs = o.retryMs ?? 5000;
  const pollMs = o.pollMs ?? 1000;
  const callTimeout = o.callTimeoutMs ?? 10_000;
  const left = () => o.deadline - Date.now();
  const timeout = () => Math.max(1, Math.min(callTimeout, left()));
  const result: DrainResult = {
    outcome: 'timeout',
    total: 0,
    evicted: 0,
    skipped: { daemonSet: 0, mirror: 0 },
    remaining: [],
    blocked: [],
    errors: [],
    ms: 0,
  };
  const finish = (outcome: DrainResult['outcome']) => {
    result.outcome = outcome;
    result.ms = Date.now() - t0;
    return result;
  };

  // 1. The node's pods; a network failure or 5xx is retried until the deadline.
  let pods: PodObject[] | undefined;
  while (!pods) {
    try {
      pods = await o.api.podsOnNode(o.nodeName, timeout());
    } catch (err) {
      const e = err as KubeError;
      if (!(e instanceof KubeError) || !e.retriable) {
        result.errors.push(`listing pods: ${e.message}`);
        return finish('failed');
      }
      if (left() <= 0) {
        result.errors.push(`listing pods: ${e.message}`);
        return finish('timeout');
      }
      await sleep(Math.min(1000, left()));
    }
  }

  // 2. Filter.
  const state = new Map<string, PodState>();
  const byUid = new Map<string, PodObject>();
  const blockedNow = new Set<string>();
  for (const pod of pods) {
    const action = podAction(pod);
    if (action === 'skip-daemonset') result.skipped.daemonSet++;
    else if (action === 'skip-mirror') result.skipped.mirror++;
    else {
      state.set(pod.metadata.uid, action === 'evict' ? 'evicting' : 'waiting');
      byUid.set(pod.metadata.uid, pod);
    }
  }
  result.total = state.size;
  const unresolved = () => [...state.values()].some((s) => s === 'evicting' || s === 'waiting');

  // 3. Evict in parallel, at most `concurrency` calls in flight; a pod waiting out a 429 holds no slot.
  let slots = Math.max(1, o.concurrency ?? 32);
  const queue: (() => void)[] = [];
  const acquire = (): Promise<void> => {
    if (slots === 0) return new Promise<void>((r) => queue.push(r));
    slots--;
    return Promise.resolve();
  };
  const release = () => {
    const next = queue.shift();
    if (next) next();
    else slots++;
  };
  const evictOne = async (pod: PodObject): Promise<void> => {
    const key = podKey(pod);
    const uid = pod.metadata.uid;
    let told = false;
    while (state.get(uid) === 'evicting' && left() > 0) {
      await acquire();
      let wait = 0;
      try {
        if (state.get(uid) !== 'evicting' || left() <= 0) return;
        const res = await o.api.evict(pod, timeout());
        if (res.status >= 200 && res.status < 300) {
          blockedNow.delete(key);
          if (state.get(uid) === 'evicting') state.set(uid, 'waiting');
          result.evicted++;
          o.onEvicted?.(key);
        } else if (res.status === 404 || res.status === 409) {
          // 404: already gone. 409: the UID precondition failed, so this pod is gone and a namesake replaced it.
          blockedNow.delete(key);
          state.set(uid, 'gone');
        } else if (res.status === 429) {
          const msg = statusMessage(res.body);
          blockedNow.add(key);
          if (!told) o.onBlocked?.(key, msg);
          told = true;
          wait = res.retryAfterMs ?? retryMs;
        } else {
          // 500 (more than one budget selects the pod), 403 and the rest: retrying cannot help.
          blockedNow.delete(key);
          state.set(uid, 'failed');
          result.errors.push(`evicting ${key}: HTTP ${res.status}: ${statusMessage(res.body)}`);
        }
      } catch (err) {
        // The API server is unreachable or slow: try again shortly, the deadline bounds it.
        if (!(err instanceof KubeError && err.retriable)) {
          state.set(uid, 'failed');
          result.errors.push(`evicting ${key}: ${(err as Error).message}`);
        } else wait = 1000;
      } finally {
        release();
      }
      if (wait > 0) await sleep(Math.min(wait, left()));
    }
  };
  const evictions = Promise.all([...byUid.values()].filter((p) => state.get(p.metadata.uid) === 'evicting').map((p) => evictOne(p)));

  // 4. Wait until the pods are gone (or their name carries a new UID): one list per poll, not one GET per pod.
  const waiting = (async () => {
    while (unresolved() && left() > 0) {
      await sleep(Math.min(pollMs, left()));
      if (![...state.values()].includes('waiting') && left() > 0) continue;
      try {
        const present = new Set((await o.api.podsOnNode(o.nodeName, timeout())).map((p) => p.metadata.uid));
        for (const [uid, s] of state) if (s === 'waiting' && !present.has(uid)) state.set(uid, 'gone');
      } catch {
        // Unreachable for a moment: the next poll, or the deadline, settles it.
      }
    }
  })();
  await Promise.all([evictions, waiting]);

  for (const [uid, s] of state) if (s !== 'gone') result.remaining.push(podKey(byUid.get(uid) as PodObject));
  result.blocked = [...blockedNow];
  if (!unresolved() && result.remaining.length === 0) return finish('drained');
  if (!unresolved()) return finish('failed');
  return finish('timeout');
}
