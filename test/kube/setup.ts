// Shared set-up for the lifecycle tests: a double of the Kubernetes API server, a kubeconfig for it,
// a Power double that records what it was asked, and an audit log captured in memory; and the real
// agent with --kube pointed at the double (startKubeAgent), for the tests that run it as a process.
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pino, { type Logger } from 'pino';
import { KubeApi } from '../../src/kube/api.js';
import { Recorder } from '../../src/kube/events.js';
import { loadKubeconfig } from '../../src/kube/kubeconfig.js';
import { KubePower, type LifecycleOptions } from '../../src/kube/power.js';
import { RestClient } from '../../src/kube/rest.js';
import type { Power, ShutdownMode } from '../../src/node/interfaces.js';
import { type DoubleOptions, KubeApiDouble, kubeconfigFor } from '../doubles/kube-api.js';
import { type Peer, startGuestlink } from '../peer/harness.js';
import { pollUntil as until } from '../poll.js';

/** A Power double: records each request with its time; never touches the machine. */
export class RecordingPower implements Power {
  readonly name = 'recording';
  readonly calls: { mode: ShutdownMode; at: number }[] = [];
  constructor(
    private readonly drains: (m: ShutdownMode) => boolean = () => false,
    private readonly fail?: string,
  ) {}
  async shutdown(mode: ShutdownMode): Promise<void> {
    this.calls.push({ mode, at: Date.now() });
    if (this.fail) throw new Error(this.fail);
  }
  async suspend(): Promise<void> {}
  drainsItself(mode: ShutdownMode): boolean {
    return this.drains(mode);
  }
}

export interface Harness {
  double: KubeApiDouble;
  dir: string;
  kubeconfig: string;
  api: KubeApi;
  lines: Record<string, any>[];
  log: Logger;
  power(inner: Power, o?: Partial<LifecycleOptions>): KubePower;
  close(): Promise<void>;
}

/** Starts a double and a client for it (through a kubeconfig file, as the agent reads it). */
export async function harness(opts: DoubleOptions = {}): Promise<Harness> {
  const double = await new KubeApiDouble(opts).start();
  const dir = mkdtempSync(path.join(os.tmpdir(), 'guestlink-kube-'));
  const kubeconfig = path.join(dir, 'kubeconfig');
  writeFileSync(kubeconfig, kubeconfigFor(double));
  const { context: _c, ...conn } = await loadKubeconfig(kubeconfig);
  const rest = new RestClient(conn);
  const api = new KubeApi(rest);
  const lines: Record<string, any>[] = [];
  const log = pino({ level: 'debug' }, { write: (s: string) => lines.push(JSON.parse(s)) });
  return {
    double,
    dir,
    kubeconfig,
    api,
    lines,
    log,
    power: (inner, o = {}) =>
      new KubePower(inner, {
        api,
        nodeName: 'n1',
        bootId: 'boot-1',
        drain: 'auto',
        timeoutMs: 10_000,
        onTimeout: 'proceed',
        recorder: o.recorder ?? new Recorder(api, o.nodeName ?? 'n1', log),
        log,
        tuning: { retryMs: 100, pollMs: 25, callTimeoutMs: 2000 },
        ...o,
      }),
    close: async () => {
      rest.close();
      await double.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Polls until `f` is true or `ms` pass: whether it came true (test/poll.ts). */
export { pollUntil as until } from '../poll.js';

export const reasons = (d: KubeApiDouble) => d.events.map((e) => e.reason as string);

/**
 * Resolves once the double has answered `times` more GETs of Node `name` from now on: a check after it
 * knows the poller really looked (a fixed sleep would pass even if the poller never ran). Fails the test
 * when the reads do not come.
 */
export async function nodeReads(d: KubeApiDouble, name: string, times = 2): Promise<void> {
  const path = `/api/v1/nodes/${name}`;
  const count = () => d.requests.filter((r) => r.method === 'GET' && r.path === path).length;
  const start = count();
  if (!(await until(() => count() >= start + times))) throw new Error(`the poller did not read Node ${name} ${times} times`);
}

/**
 * The real agent in `dir` with the Kubernetes lifecycle on: --kube kubeconfig through `dir`/kubeconfig
 * (written for `double` unless the test wrote its own), as Node `nodeName`, then `args`.
 */
export function startKubeAgent(double: KubeApiDouble, dir: string, nodeName: string, args: readonly string[] = []): Promise<Peer> {
  const kubeconfig = path.join(dir, 'kubeconfig');
  if (!existsSync(kubeconfig)) writeFileSync(kubeconfig, kubeconfigFor(double), { mode: 0o600 });
  return startGuestlink(dir, ['--kube', 'kubeconfig', '--kubeconfig', kubeconfig, '--node-name', nodeName, ...args]);
}
