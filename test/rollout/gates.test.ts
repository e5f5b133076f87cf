// The gates decided on snapshots read through the rollout's own client from the API double:
// the control-plane quorum rule, cordoned-by-others, a drain under way, /readyz, and after a batch
// the workloads (ready against desired) and PodDisruptionBudgets (currentHealthy against
// desiredHealthy), excusing what was unhealthy before the rollout. Also: the operator's ClusterRole
// (deploy/rollout/rbac.yaml) is enough for every read, and each of its rules is needed.
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterEach, beforeEach, describe, test } from 'node:test';
import { Cluster } from '../../src/host/rollout/cluster.js';
import { baselineOf, postGate, preGate } from '../../src/host/rollout/gates.js';
import type { Target } from '../../src/host/rollout/plan.js';
import { LIFECYCLE_ANNOTATION } from '../../src/kube/cordon.js';
import { RestClient } from '../../src/kube/rest.js';
import { ADMIN_TOKEN, KubeApiDouble, SA_TOKEN } from '../doubles/kube-api.js';
import { ClusterDouble, ROLLOUT_RBAC_FILE, ROLLOUT_TOKEN, ROLLOUT_USER, rolloutAuthorizer } from '../doubles/kube-workloads.js';
import { makeTempDir } from '../peer/harness.js';

let api: KubeApiDouble;
let k8s: ClusterDouble;
let clients: RestClient[];
beforeEach(async () => {
  api = await new KubeApiDouble({ readyMs: 20 }).start();
  k8s = new ClusterDouble(api);
  clients = [];
  for (const n of ['cp1', 'cp2', 'cp3']) api.addNode(n, { controlPlane: true });
  for (const n of ['w1', 'w2']) api.addNode(n);
});
afterEach(async () => {
  for (const c of clients) c.close();
  k8s.stop();
  await api.stop();
});

function cluster(token = ROLLOUT_TOKEN): Cluster {
  const rest = new RestClient({ server: api.url, token: () => token });
  clients.push(rest);
  return new Cluster(rest, 2000);
}
const target = (node: string, cp = false): Target => ({ vm: `libvirt:${node}`, node, controlPlane: cp, matchedBy: 'host-name' });
const failing = (g: { checks: { name: string; ok: boolean }[] }) => g.checks.filter((c) => !c.ok).map((c) => c.name);
const detail = (g: { checks: { name: string; detail: string }[] }, name: string) => g.checks.find((c) => c.name === name)?.detail ?? '';
const annotate = (node: string, bootId: string) => {
  const n = api.nodes.get(node) as any;
  n.metadata.annotations[LIFECYCLE_ANNOTATION] = JSON.stringify({
    bootId,
    mode: 'reboot',
    requested: '',
    deadline: '',
    cordoned: true,
    phase: 'draining',
  });
  n.spec.unschedulable = true;
};

describe('pre-gate', () => {
  test('a healthy cluster passes for a worker and for a control-plane node', async () => {
    const s = await cluster().snapshot();
    assert.equal(s.nodes.length, 5);
    assert.deepEqual(
      s.nodes.filter((n) => n.controlPlane).map((n) => n.name),
      ['cp1', 'cp2', 'cp3'],
    );
    assert.ok(s.nodes.every((n) => n.bootId && n.ready && !n.unschedulable));
    assert.deepEqual(failing(preGate(s, [target('w1')], { ignoreCordoned: false })), []);
    const g = preGate(s, [target('cp1', true)], { ignoreCordoned: false });
    assert.deepEqual(failing(g), []);
    assert.match(detail(g, 'control-plane-quorum'), /the other 2 control-plane node\(s\) Ready/);
  });

  test('quorum: a control-plane node waits while another is not Ready or going down; a worker is not held by it the same way', async () => {
    api.setNodeReady('cp2', false);
    let s = await cluster().snapshot();
    assert.deepEqual(failing(preGate(s, [target('cp1', true)], { ignoreCordoned: false })), ['nodes-ready', 'control-plane-quorum']);
    assert.match(
      detail(preGate(s, [target('cp1', true)], { ignoreCordoned: false }), 'control-plane-quorum'),
      /not Ready or going down: cp2/,
    );
    api.setNodeReady('cp2', true);
    annotate('cp3', (api.nodes.get('cp3') as any).status.nodeInfo.bootID);
    s = await cluster().snapshot();
    const g = preGate(s, [target('cp1', true)], { ignoreCordoned: false });
    assert.deepEqual(failing(g), ['no-power-action', 'control-plane-quorum']);
    assert.match(detail(g, 'control-plane-quorum'), /going down: cp3/);
    assert.deepEqual(failing(preGate(s, [target('w1')], { ignoreCordoned: false })), ['no-power-action']);
    assert.deepEqual(failing(preGate(s, [target('cp1', true), target('cp2', true)], { ignoreCordoned: false })), [
      'no-power-action',
      'control-plane-quorum',
    ]);
  });

  test('a Node cordoned by someone else stops it unless --ignore-cordoned; a node in flight of this batch is not held against it', async () => {
    (api.nodes.get('w2') as any).spec.unschedulable = true;
    const s = await cluster().snapshot();
    const g = preGate(s, [target('w1')], { ignoreCordoned: false });
    assert.deepEqual(failing(g), ['no-foreign-cordon']);
    assert.match(detail(g, 'no-foreign-cordon'), /cordoned by someone else: w2 .*--ignore-cordoned/);
    const ig = preGate(s, [target('w1')], { ignoreCordoned: true });
    assert.deepEqual(failing(ig), []);
    assert.match(detail(ig, 'no-foreign-cordon'), /ignored \(--ignore-cordoned\): w2/);
    annotate('w1', 'x');
    api.setNodeReady('w1', false);
    const s2 = await cluster().snapshot();
    assert.deepEqual(failing(preGate(s2, [target('w1'), target('w2')], { ignoreCordoned: true, inFlight: new Set(['w1']) })), []);
  });

  test('/readyz failing is a failed check with the failing component', async () => {
    k8s.readyz = { ok: false, failing: ['etcd'] };
    const s = await cluster().snapshot();
    const g = preGate(s, [target('w1')], { ignoreCordoned: false });
    assert.deepEqual(failing(g), ['api-ready']);
    assert.match(detail(g, 'api-ready'), /HTTP 500: \[-\]etcd failed: reason withheld/);
  });
});

describe('post-gate', () => {
  test('Deployments, StatefulSets, DaemonSets ready against desired; budgets met; unhealthy-before excused', async () => {
    api.addPod({ name: 'web-a', node: 'w1', owner: { kind: 'ReplicaSet', name: 'web-1' }, labels: { app: 'web' } });
    api.addPod({ name: 'web-b', node: 'w2', owner: { kind: 'ReplicaSet', name: 'web-1' }, labels: { app: 'web' } });
    k8s.addDeployment({ name: 'web', replicas: 2, matchLabels: { app: 'web' } });
    api.addPdb({ name: 'web', matchLabels: { app: 'web' }, minAvailable: 2 });
    api.addPod({ name: 'db-0', node: 'w2', owner: { kind: 'StatefulSet', name: 'db' }, labels: { app: 'db' } });
    k8s.addStatefulSet({ name: 'db', replicas: 1, matchLabels: { app: 'db' } });
    for (const n of api.nodes.keys())
      api.addPod({ name: `ds-${n}`, namespace: 'kube-system', node: n, owner: { kind: 'DaemonSet', name: 'ds' }, labels: { app: 'ds' } });
    k8s.addDaemonSet({ name: 'ds', namespace: 'kube-system', matchLabels: { app: 'ds' } });
    // Broken before the rollout: never counted against it.
    api.addPod({ name: 'broken-0', node: 'w1', owner: { kind: 'ReplicaSet', name: 'broken-1' }, labels: { app: 'broken' }, ready: false });
    k8s.addDeployment({ name: 'broken', replicas: 1, matchLabels: { app: 'broken' } });
    const c = cluster();
    const before = await c.snapshot();
    const base = baselineOf(before);
    assert.deepEqual(base.unhealthy, ['Deployment default/broken']);
    assert.deepEqual(failing(postGate(before, base)), []);
    assert.match(
      detail(postGate(before, base), 'workloads-ready'),
      /4 Deployments\/StatefulSets\/DaemonSets ready \(1 unhealthy before the rollout, not counted\)/,
    );

    // w2 goes down: its Deployment pod, StatefulSet pod and DaemonSet pod are not Ready; the budget is broken.
    k8s.kubelet('w2', { ready: false });
    const down = await c.snapshot();
    const g = postGate(down, base);
    assert.deepEqual(failing(g), ['nodes-ready', 'workloads-ready', 'pdbs-met']);
    assert.match(detail(g, 'workloads-ready'), /Deployment default\/web 1\/2/);
    assert.match(detail(g, 'workloads-ready'), /StatefulSet default\/db 0\/1/);
    assert.match(detail(g, 'workloads-ready'), /DaemonSet kube-system\/ds 4\/5/);
    assert.match(detail(g, 'pdbs-met'), /default\/web 1\/2 healthy/);
    const pdb = down.pdbs.find((p) => p.key === 'default/web');
    assert.deepEqual(pdb, { key: 'default/web', currentHealthy: 1, desiredHealthy: 2, disruptionsAllowed: 0 });

    k8s.kubelet('w2', { ready: true, bootId: 'new-boot' });
    let after = await c.snapshot();
    for (let i = 0; i < 100 && !postGate(after, base).ok; i++) {
      await new Promise((r) => setTimeout(r, 20));
      after = await c.snapshot();
    }
    assert.deepEqual(failing(postGate(after, base)), []);
    assert.equal(after.nodes.find((n) => n.name === 'w2')?.bootId, 'new-boot');
  });
});

describe("the operator's RBAC (deploy/rollout/rbac.yaml)", () => {
  test('is enough for every read of a rollout, and the agent service account is not', async () => {
    api.addPdb({ name: 'x', matchLabels: { a: 'b' }, minAvailable: 0 });
    await cluster().snapshot();
    await cluster().node('w1');
    assert.ok(api.requests.filter((r) => r.user === ROLLOUT_USER).every((r) => r.status === 200));
    await assert.rejects(cluster(SA_TOKEN).snapshot(), /HTTP 403/);
    await cluster(ADMIN_TOKEN).snapshot();
  });

  test('each of its rules is needed', async () => {
    const text = readFileSync(ROLLOUT_RBAC_FILE, 'utf8');
    const dir = makeTempDir('rollout-rbac-');
    const cuts: [string, RegExp][] = [
      ['"deployments", ', /deployments/],
      ['"statefulsets", ', /statefulsets/],
      [', "daemonsets"', /daemonsets/],
      ['    resources: ["poddisruptionbudgets"]', /poddisruptionbudgets/],
      ['    verbs: ["get", "list"]', /nodes/],
    ];
    let tried = 0;
    for (const [cut, what] of cuts) {
      assert.ok(text.includes(cut), cut);
      tried++;
      const file = path.join(dir, `rbac-${tried}.yaml`);
      writeFileSync(
        file,
        text.replace(cut, cut.includes('resources') ? '    resources: ["nothing"]' : cut.includes('verbs') ? '    verbs: ["get"]' : ''),
      );
      api.authorizers.set(ROLLOUT_USER, rolloutAuthorizer(file));
      await assert.rejects(cluster().snapshot(), (e: Error) => /HTTP 403/.test(e.message) && what.test(e.message), `without ${cut.trim()}`);
    }
    assert.equal(tried, 5);
  });
});
