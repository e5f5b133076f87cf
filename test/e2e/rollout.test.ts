// The rolling reboot end to end with real VMs and real reboots: two QEMU (TCG) VMs booting the
// test initramfs, guestlink's agent inside on the real virtio-serial port with the Kubernetes
// lifecycle on (--kube kubeconfig: it reaches the API double on this host through QEMU's
// user-mode network, 10.0.2.2) and --power openrc (the init's reboot, so reboot(2): the VM really
// resets, as QMP shows). On the host: the Kubernetes API double (named a double; no API server is
// installable here) plays the API server, and a kubelet double reports each Node's real boot id,
// read from the guest's /proc/sys/kernel/random/boot_id, and Ready while the guest answers. The
// rollout runs as the CLI (`guestlink rollout reboot unix:... -o json`) with the operator's
// read-only credentials. Checked:
// - one node down at a time, in the planned order (workers first), each cordoned -> drained ->
//   reset -> new boot id -> uncordoned (by its own agent) before the next one's cordon;
// - Ctrl-C during the first node: it is finished, the rollout stops (exit 130), --resume reboots the
//   second and never the first again;
// - a node that never comes back (QMP set-action: its reboot leaves the VM paused) stops a new
//   rollout with exit 11 and the documented message; the other VM is not touched.
// Runs under the machine-wide lock (flock /tmp/guestlink-heavy.lock); no wall-clock bounds are asserted.
import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { CLI } from '../cli/run-cli.js';
import { KubeApiDouble, kubeconfigFor, SA_TOKEN, SA_USER } from '../doubles/kube-api.js';
import { ClusterDouble, ROLLOUT_TOKEN } from '../doubles/kube-workloads.js';
import { guestBootId, KubeletDouble } from './vm/kubelet-double.js';
import { QmpClient, type QmpEvent } from './vm/qmp.js';
import { bootVm, type Vm, vmUnavailableReason } from './vm/vm.js';

const skip = vmUnavailableReason();
if (skip) console.log(`# ${skip}`);

const W = 'gl-w';
const CP = 'gl-cp';
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** One QMP session per VM, polled, so QEMU's events (with QEMU's own host timestamps) are all kept. */
class QmpWatch {
  private chain: Promise<unknown> = Promise.resolve();
  private stopped = false;
  private loop: Promise<void> | undefined;
  constructor(readonly qmp: QmpClient) {}
  static async open(vm: Vm): Promise<QmpWatch> {
    const w = new QmpWatch(await QmpClient.connect(vm.qmpSocket, 10_000));
    w.loop = (async () => {
      while (!w.stopped) {
        await w.execute('query-status').catch(() => {});
        await sleep(250);
      }
    })();
    return w;
  }
  execute(cmd: string, args?: Record<string, unknown>): Promise<unknown> {
    const p = this.chain.then(() => this.qmp.execute(cmd, args, 10_000));
    this.chain = p.catch(() => {});
    return p;
  }
  /** Host milliseconds of each event of that name. */
  times(name: string): number[] {
    return this.qmp.events
      .filter((e: QmpEvent) => e.event === name)
      .map((e) => {
        const t = e.timestamp as { seconds: number; microseconds: number };
        return t.seconds * 1000 + Math.floor(t.microseconds / 1000);
      });
  }
  async close(): Promise<void> {
    this.stopped = true;
    await this.loop;
    await this.chain;
    await this.qmp.close();
  }
}

/** "cordoned 3 s, down 18 s, ...": when each phase began, after the reboot request (from the events). */
function phases(events: readonly Record<string, any>[], node: string): string {
  const seen = events.filter(
    (e) => e.event === 'phase' && e.node === node && ['cordoned', 'down', 'booted', 'ready', 'uncordoned'].includes(e.phase),
  );
  return seen.map((e) => `${e.phase} ${(e.elapsedMs / 1000).toFixed(0)} s`).join(', ');
}

interface CliRun {
  code: number | null;
  events: Record<string, any>[];
  stderr: string;
}

/** Runs the CLI with -o json; `onEvent` may signal it. */
function runRollout(args: string[], onEvent?: (e: Record<string, any>, child: ChildProcess) => void): Promise<CliRun> {
  const child = spawn(process.execPath, [CLI, 'rollout', 'reboot', ...args, '-o', 'json'], { stdio: ['ignore', 'pipe', 'pipe'] });
  const events: Record<string, any>[] = [];
  let buf = '';
  let stderr = '';
  child.stderr.on('data', (d) => (stderr += d));
  child.stdout.on('data', (d) => {
    buf += d;
    for (let nl = buf.indexOf('\n'); nl >= 0; nl = buf.indexOf('\n')) {
      const e = JSON.parse(buf.slice(0, nl));
      buf = buf.slice(nl + 1);
      events.push(e);
      onEvent?.(e, child);
    }
  });
  return new Promise((resolve) => child.on('close', (code) => resolve({ code, events, stderr })));
}

describe('guestlink rollout reboot over two real VMs', { skip, timeout: 40 * 60_000, concurrency: false }, () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'gl-rollout-e2e-'));
  const api = new KubeApiDouble({ terminationMs: 200, readyMs: 300 });
  const k8s = new ClusterDouble(api);
  const vms = new Map<string, Vm>();
  const qmp = new Map<string, QmpWatch>();
  let kubelet: KubeletDouble;
  const state = path.join(dir, 'rollout-state.json');
  const args = () => [
    `unix:${vms.get(CP)?.qgaSocket}`,
    `unix:${vms.get(W)?.qgaSocket}`,
    '--kubeconfig',
    path.join(dir, 'operator.kubeconfig'),
  ];
  const common = (nodeTimeout = '15m') => ['--state', state, '--timeout', '30', '--node-timeout', nodeTimeout, '--settle-timeout', '10m'];
  const perNode: string[] = [];

  before(async () => {
    await api.start();
    const port = new URL(api.url).port;
    // The agents' kubeconfig: the API double as the guest reaches this host's loopback (slirp's 10.0.2.2).
    const guestKubeconfig = path.join(dir, 'agent.kubeconfig');
    writeFileSync(guestKubeconfig, kubeconfigFor({ ...api, url: `http://10.0.2.2:${port}` } as KubeApiDouble, SA_TOKEN), { mode: 0o644 });
    writeFileSync(path.join(dir, 'operator.kubeconfig'), kubeconfigFor(api, ROLLOUT_TOKEN), { mode: 0o600 });
    api.addNode(CP, { controlPlane: true, addresses: ['10.0.2.15'] });
    api.addNode(W, { addresses: ['10.0.2.15'] });
    api.addPod({ name: 'web-0', node: W, owner: { kind: 'ReplicaSet', name: 'web-1' }, labels: { app: 'web' } });
    api.addPod({ name: 'web-1', node: CP, owner: { kind: 'ReplicaSet', name: 'web-1' }, labels: { app: 'web' } });
    k8s.addDeployment({ name: 'web', replicas: 2, matchLabels: { app: 'web' } });
    api.addPdb({ name: 'web', matchLabels: { app: 'web' }, maxUnavailable: 1 });
    for (const n of [CP, W])
      api.addPod({
        name: `agent-${n}`,
        namespace: 'kube-system',
        node: n,
        owner: { kind: 'DaemonSet', name: 'agent' },
        labels: { app: 'agent' },
      });
    k8s.addDaemonSet({ name: 'agent', namespace: 'kube-system', matchLabels: { app: 'agent' } });
    const agentArgs = ['--power', 'openrc', '--kube', 'kubeconfig', '--kubeconfig', guestKubeconfig, '--drain-timeout', '2m'];
    const booted = await Promise.all(
      [CP, W].map((hostname) => bootVm({ hostname, agentArgs, allowReboot: true, readyTimeoutMs: 600_000, memoryMb: 640 })),
    );
    for (const [i, n] of [CP, W].entries()) {
      const vm = booted[i] as Vm;
      vms.set(n, vm);
      // The rollout needs the chardev: QEMU takes one client at a time.
      await vm.firstConnection?.close();
      qmp.set(n, await QmpWatch.open(vm));
    }
    kubelet = new KubeletDouble(k8s, vms);
    kubelet.start();
    // The Nodes report the guests' real boot ids, and each agent has checked its Node at start-up.
    for (const [n, vm] of vms) {
      let id: string | undefined;
      for (let i = 0; i < 600 && (!id || kubelet.reported(n) !== id); i++) {
        id = await guestBootId(vm, 3000);
        await sleep(500);
      }
      assert.equal(kubelet.reported(n), id, `${n} reports its guest's boot id`);
    }
    for (let i = 0; i < 600; i++) {
      if ([CP, W].every((n) => api.requests.some((r) => r.user === SA_USER && r.path === `/api/v1/nodes/${n}`))) break;
      await sleep(500);
    }
    assert.ok(
      [CP, W].every((n) => api.requests.some((r) => r.user === SA_USER && r.path === `/api/v1/nodes/${n}`)),
      `both agents reached the API double from inside their VMs; consoles:\n${[...vms.values()].map((v) => v.console().split('\n').slice(-15).join('\n')).join('\n---\n')}`,
    );
  });

  after(async () => {
    await kubelet?.stop();
    for (const w of qmp.values()) await w.close().catch(() => {});
    for (const vm of vms.values()) await vm.stop();
    k8s.stop();
    await api.stop();
    rmSync(dir, { recursive: true, force: true });
    if (perNode.length) console.log(`# rollout time per node (TCG, reboot request to uncordoned): ${perNode.join(', ')}`);
  });

  const saPatches = (node: string, unschedulable: boolean) =>
    api.requests
      .filter(
        (r) =>
          r.user === SA_USER &&
          r.method === 'PATCH' &&
          r.path === `/api/v1/nodes/${node}` &&
          (r.body as any)?.spec?.unschedulable === unschedulable,
      )
      .map((r) => r.at);
  // One guest reboot shows as a burst of RESET events (the kernel's reset, then the firmware's own,
  // within ~100 ms, measured here): a reboot is a burst, and its time the burst's first event.
  const resets = (node: string) =>
    (qmp.get(node)?.times('RESET') ?? []).filter((t, i, all) => i === 0 || t - (all[i - 1] as number) > 2000);
  const boots = (node: string) => kubelet.sightings.filter((s) => s.node === node && s.what === 'boot').map((s) => s.at);

  test('Ctrl-C during the first node: it finishes (worker first), the rollout stops with 130, the control plane is untouched', async () => {
    let signalled = false;
    const run = await runRollout([...args(), ...common()], (e, child) => {
      if (!signalled && e.event === 'phase' && e.node === W && e.phase === 'cordoned') {
        signalled = true;
        child.kill('SIGINT');
      }
    });
    assert.equal(run.code, 130, run.stderr);
    assert.ok(signalled);
    const plan = run.events.find((e) => e.event === 'plan') as Record<string, any>;
    assert.deepEqual(
      plan.batches.map((b: { node: string }[]) => b.map((t) => t.node)),
      [[W], [CP]],
    );
    assert.ok(run.events.some((e) => e.event === 'interrupt' && e.level === 1));
    const end = run.events.at(-1) as Record<string, any>;
    assert.equal(end.result, 'interrupted');
    assert.deepEqual(
      end.nodes.map((n: { node: string; status: string }) => [n.node, n.status]),
      [
        [W, 'done'],
        [CP, 'pending'],
      ],
    );
    assert.match(run.stderr, /Resume with:\n {2}guestlink rollout reboot .* --resume/);
    assert.equal(resets(W).length, 1, 'the worker reset once');
    assert.equal(resets(CP).length, 0, 'the control-plane VM was not touched');
    const w = end.nodes.find((n: { node: string }) => n.node === W);
    assert.notEqual(w.bootIdAfter, w.bootIdBefore);
    assert.equal(w.bootIdAfter, await guestBootId(vms.get(W) as Vm, 5000), "the new boot id is the guest's own");
    perNode.push(`${W} ${(w.ms / 1000).toFixed(0)} s (${phases(run.events, W)})`);
  });

  test('--resume reboots the control-plane node and not the worker again; one node down at a time, each fully before the next', async () => {
    const run = await runRollout([...args(), ...common(), '--resume']);
    assert.equal(run.code, 0, run.stderr);
    const requested = run.events.filter((e) => e.event === 'phase' && e.phase === 'requested').map((e) => e.node);
    assert.deepEqual(requested, [CP]);
    assert.equal(resets(W).length, 1, 'the worker was not rebooted twice');
    assert.equal(resets(CP).length, 1);
    const end = run.events.at(-1) as Record<string, any>;
    assert.equal(end.result, 'done');
    const cp = end.nodes.find((n: { node: string }) => n.node === CP);
    assert.equal(cp.bootIdAfter, await guestBootId(vms.get(CP) as Vm, 5000));
    perNode.push(`${CP} ${(cp.ms / 1000).toFixed(0)} s (${phases(run.events, CP)})`);

    // The evidence, in time, from three independent places: the API double's log of the agents'
    // calls, QEMU's reset events, the kubelet double's sightings of the new boot ids.
    const order: [string, string, number][] = [];
    for (const n of [W, CP]) {
      const cordon = saPatches(n, true)[0] ?? Number.NaN;
      const reset = resets(n)[0] ?? Number.NaN;
      const evictions = api.evictions().filter((r) => r.user === SA_USER && r.status === 201 && r.at >= cordon && r.at <= reset);
      const back = boots(n).find((t) => t > reset) ?? Number.NaN;
      const uncordon = saPatches(n, false).find((t) => t > back) ?? Number.NaN;
      assert.ok(evictions.length >= 1, `${n}: its web pod was evicted between the cordon and the reset`);
      order.push([n, 'cordoned', cordon], [n, 'drained', Math.max(...evictions.map((r) => r.at))], [n, 'reset', reset]);
      order.push([n, 'new boot id', back], [n, 'uncordoned', uncordon]);
    }
    for (let i = 1; i < order.length; i++) {
      const [pn, pw, pt] = order[i - 1] as [string, string, number];
      const [n, w, t] = order[i] as [string, string, number];
      assert.ok(pt <= t, `${pn} ${pw} (${pt}) before ${n} ${w} (${t}): ${JSON.stringify(order)}`);
    }
    // Strictly one down at a time: the worker was back before the control plane reset.
    assert.ok((boots(W).find((t) => t > (resets(W)[0] ?? 0)) ?? Infinity) < (resets(CP)[0] ?? 0));
    for (const n of [W, CP]) assert.equal(api.nodes.get(n)?.spec.unschedulable, false, `${n} serving again`);
  });

  test('a node that never comes back stops a new rollout with exit 11 and the documented message', async () => {
    // Its next reboot ends in a paused, powered-off machine: it goes down and never answers again.
    await qmp.get(W)?.execute('set-action', { reboot: 'shutdown', shutdown: 'pause' });
    const before = resets(CP).length;
    const run = await runRollout([...args(), ...common('90s')]);
    assert.equal(run.code, 11, run.stderr);
    assert.match(
      run.stderr,
      /guestlink: rollout stopped: Node gl-w did not come back within --node-timeout 1m30s: it went down and has not come back/,
    );
    assert.match(run.stderr, /Node gl-w is left as it is\. The state is in .* Resume with:/);
    assert.ok((qmp.get(W)?.times('SHUTDOWN').length ?? 0) >= 1, 'QEMU saw the guest go down');
    assert.equal(resets(CP).length, before, 'the control-plane VM was not touched');
    assert.equal(api.nodes.get(W)?.spec.unschedulable, true, 'left as it is: cordoned');
  });
});
