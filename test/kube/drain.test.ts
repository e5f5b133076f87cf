// The drain before a hypervisor power action, against the Kubernetes API double: kubectl's filters,
// parallel evictions with PodDisruptionBudgets, the deadline under both policies, an unreachable
// API server, and the shipped RBAC rules being enough (the double answers 403 outside them).
import assert from 'node:assert/strict';
import net from 'node:net';
import { test } from 'node:test';
import { LIFECYCLE_ANNOTATION, lifecycleRecord } from '../../src/kube/cordon.js';
import type { KubeError } from '../../src/kube/errors.js';
import { harness, RecordingPower, reasons, until } from './setup.js';

/** 30 pods on n1: ReplicaSets (one with a budget), a StatefulSet with a budget, DaemonSets, static, bare, finished, terminating. */
function cluster30(h: Awaited<ReturnType<typeof harness>>) {
  const d = h.double;
  d.addNode('n1');
  d.addNode('n2');
  d.addNode('n3');
  for (let i = 0; i < 8; i++)
    d.addPod({ name: `web-${i}`, node: 'n1', owner: { kind: 'ReplicaSet', name: 'web-abc' }, labels: { app: 'web' } });
  for (let i = 0; i < 4; i++)
    d.addPod({ name: `api-${i}`, namespace: 'shop', node: 'n1', owner: { kind: 'ReplicaSet', name: 'api-def' }, labels: { app: 'api' } });
  d.addPdb({ name: 'api', namespace: 'shop', matchLabels: { app: 'api' }, maxUnavailable: 1 });
  for (let i = 0; i < 3; i++)
    d.addPod({ name: `db-${i}`, namespace: 'shop', node: 'n1', owner: { kind: 'StatefulSet', name: 'db' }, labels: { app: 'db' } });
  d.addPdb({ name: 'db', namespace: 'shop', matchLabels: { app: 'db' }, minAvailable: 2 });
  for (const ds of ['cilium', 'kube-proxy', 'node-exporter', 'csi-node', 'fluent-bit', 'guestlink'])
    d.addPod({ name: `${ds}-x1`, namespace: 'kube-system', node: 'n1', owner: { kind: 'DaemonSet', name: ds } });
  for (const s of ['kube-apiserver', 'etcd', 'kube-scheduler'])
    d.addPod({ name: `${s}-n1`, namespace: 'kube-system', node: 'n1', mirror: true });
  for (let i = 0; i < 3; i++) d.addPod({ name: `bare-${i}`, node: 'n1' });
  for (let i = 0; i < 2; i++) d.addPod({ name: `job-${i}`, node: 'n1', owner: { kind: 'Job', name: 'nightly' }, phase: 'Succeeded' });
  const leaving = d.addPod({ name: 'leaving', node: 'n1', owner: { kind: 'ReplicaSet', name: 'old-rs' } });
  leaving.metadata.deletionTimestamp = new Date().toISOString();
  // It finishes terminating once the drain has listed it (a timer alone raced with a slow list under load).
  const listed = () => d.requests.some((r) => r.method === 'GET' && r.path.startsWith('/api/v1/pods') && r.status === 200);
  const gone = setInterval(() => {
    if (!listed()) return;
    d.pods.delete('default/leaving');
    clearInterval(gone);
  }, 10);
  gone.unref();
  // Some pods elsewhere, which the drain must not touch.
  d.addPod({ name: 'web-other', node: 'n2', owner: { kind: 'ReplicaSet', name: 'web-abc' }, labels: { app: 'web' } });
}

test('drains 30 pods across ReplicaSets, a StatefulSet, DaemonSets and static pods, then powers off', async (t) => {
  const h = await harness({ tls: true, terminationMs: 30, readyMs: 60 });
  t.after(() => h.close());
  cluster30(h);
  assert.equal(h.double.podsOn('n1').length, 30);
  const inner = new RecordingPower();
  await h.power(inner).shutdown('reboot');

  assert.deepEqual(
    inner.calls.map((c) => c.mode),
    ['reboot'],
  );
  const left = h.double
    .podsOn('n1')
    .map((p) => p.metadata.name)
    .sort();
  assert.deepEqual(left, [
    'cilium-x1',
    'csi-node-x1',
    'etcd-n1',
    'fluent-bit-x1',
    'guestlink-x1',
    'kube-apiserver-n1',
    'kube-proxy-x1',
    'kube-scheduler-n1',
    'node-exporter-x1',
  ]);
  const evicted = new Set(h.double.evictions().map((r) => r.path.split('/')[6]));
  assert.equal(evicted.size, 20, 'every pod but DaemonSet, mirror and already-terminating ones is evicted');
  for (const name of evicted) assert.doesNotMatch(name as string, /-x1$|-n1$|^leaving$/);
  // The budgets made the API refuse some evictions (429) until replacements elsewhere were Ready.
  assert.ok(
    h.double.evictions().some((r) => r.status === 429),
    'a PodDisruptionBudget blocked at least once',
  );
  // StatefulSet pods came back under the same name with a new UID, on other nodes, never on n1.
  for (let i = 0; i < 3; i++) assert.notEqual(h.double.pods.get(`shop/db-${i}`)?.spec.nodeName, 'n1');
  assert.ok(h.double.podsOn('n2').length + h.double.podsOn('n3').length >= 15);
  // Cordoned, recorded as guestlink's cordon with this boot's id.
  const node = h.double.nodes.get('n1') as any;
  assert.equal(node.spec.unschedulable, true);
  assert.equal(lifecycleRecord(node)?.cordoned, true);
  assert.equal(lifecycleRecord(node)?.bootId, 'boot-1');
  assert.ok(h.double.requests.some((r) => r.method === 'PATCH' && r.contentType === 'application/strategic-merge-patch+json'));
  // Only the calls the shipped RBAC allows, and no 403 among them.
  assert.deepEqual(
    h.double.requests.filter((r) => r.status === 403 || r.status === 401),
    [],
  );
  assert.ok(await until(() => reasons(h.double).includes('Proceeding')));
  const rs = reasons(h.double);
  for (const r of ['ShutdownRequested', 'Cordoned', 'EvictionBlocked', 'Drained', 'Proceeding'])
    assert.ok(rs.includes(r), `event ${r} in ${rs}`);
  assert.match(h.double.events.find((e) => e.reason === 'Drained')?.message, /^drained 21 pods in /);
  for (const e of h.double.events)
    assert.deepEqual([e.involvedObject.kind, e.involvedObject.name, e.metadata.namespace], ['Node', 'n1', 'default']);
  // The same facts in the audit log.
  const audit = h.lines.filter((l) => l.kube);
  for (const r of ['ShutdownRequested', 'Cordoned', 'Drained', 'Proceeding'])
    assert.ok(
      audit.some((l) => l.kube === r),
      `audit ${r}`,
    );
  assert.equal(audit.find((l) => l.kube === 'Drained')?.skippedDaemonSet, 6);
  assert.equal(audit.find((l) => l.kube === 'Drained')?.skippedMirror, 3);
});

/** Two replicas on n1 under minAvailable 2 and nowhere else to go: every eviction gets 429. */
function blockedCluster(h: Awaited<ReturnType<typeof harness>>) {
  h.double.addNode('n1');
  for (let i = 0; i < 2; i++)
    h.double.addPod({ name: `pay-${i}`, node: 'n1', owner: { kind: 'ReplicaSet', name: 'pay' }, labels: { app: 'pay' } });
  h.double.addPod({ name: 'free', node: 'n1', owner: { kind: 'ReplicaSet', name: 'free' } });
  h.double.addPdb({ name: 'pay', matchLabels: { app: 'pay' }, minAvailable: 2 });
}

test('a budget blocking past the deadline: proceed powers off at the deadline, recorded', async (t) => {
  const h = await harness();
  t.after(() => h.close());
  blockedCluster(h);
  const inner = new RecordingPower();
  await h.power(inner, { timeoutMs: 1200 }).shutdown('powerdown');
  assert.equal(inner.calls.length, 1);
  // The deadline the lifecycle enforced, read back from its record on the Node: the power action waited for it.
  const deadline = Date.parse(lifecycleRecord(h.double.nodes.get('n1') as any)?.deadline ?? '');
  assert.ok((inner.calls[0]?.at as number) >= deadline, `power action at ${inner.calls[0]?.at}, deadline ${deadline}`);
  assert.ok(h.double.evictions().filter((r) => r.status === 429).length >= 4, '429 retried');
  assert.deepEqual(
    h.double
      .podsOn('n1')
      .map((p) => p.metadata.name)
      .sort(),
    ['pay-0', 'pay-1'],
  );
  assert.ok(await until(() => reasons(h.double).includes('Proceeding')));
  const timedOut = h.double.events.find((e) => e.reason === 'DrainTimedOut');
  assert.equal(timedOut?.type, 'Warning');
  assert.match(timedOut?.message, /2 of 3 pods not drained, 2 blocked by a PodDisruptionBudget \(default\/pay-0, default\/pay-1\)/);
  assert.match(h.double.events.find((e) => e.reason === 'Proceeding')?.message, /undrained \(drain-on-timeout proceed\)/);
  assert.match(
    h.double.events.find((e) => e.reason === 'EvictionBlocked')?.message,
    /The disruption budget pay needs 2 healthy pods and has 2 currently/,
  );
  // Going down: the node stays cordoned until it is back.
  assert.equal((h.double.nodes.get('n1') as any).spec.unschedulable, true);
});

test('a budget blocking past the deadline: abort refuses with the reason and uncordons', async (t) => {
  const h = await harness();
  t.after(() => h.close());
  blockedCluster(h);
  const inner = new RecordingPower();
  const t0 = Date.now();
  await assert.rejects(h.power(inner, { timeoutMs: 800, onTimeout: 'abort' }).shutdown('reboot'), (err: KubeError) => {
    assert.equal(err.code, 'KUBE_DRAIN_ABORTED');
    assert.match(err.message, /^reboot refused: the node was not drained \(2 of 3 pods not drained, 2 blocked by a PodDisruptionBudget/);
    assert.match(err.message, /raise --drain-timeout, or set --drain-on-timeout proceed/);
    return true;
  });
  // The refusal waits for the deadline (800 ms after the request at the earliest); that it comes at all is
  // the deadline at work: the budget never lets the evictions through.
  assert.ok(Date.now() - t0 >= 800, 'the drain was given its whole budget');
  assert.equal(inner.calls.length, 0, 'no power action');
  const node = h.double.nodes.get('n1') as any;
  assert.ok(await until(() => node.spec.unschedulable === false), 'uncordoned again');
  assert.equal(node.metadata.annotations[LIFECYCLE_ANNOTATION], undefined);
  assert.ok(await until(() => reasons(h.double).includes('Uncordoned')));
  assert.ok(reasons(h.double).includes('DrainAborted'));
});

// The deadline is an hour away: the power action coming at all shows the drain did not wait for it (the
// test's own timeout turns a wait into a failure instead of a hang).
test('more than one budget for a pod (500) ends the drain early; proceed powers off without waiting for the deadline', {
  timeout: 120_000,
}, async (t) => {
  const h = await harness();
  t.after(() => h.close());
  h.double.addNode('n1');
  h.double.addNode('n2');
  h.double.addPod({ name: 'dup', node: 'n1', owner: { kind: 'ReplicaSet', name: 'dup' }, labels: { app: 'dup', tier: 'x' } });
  h.double.addPod({ name: 'ok', node: 'n1', owner: { kind: 'ReplicaSet', name: 'ok' } });
  h.double.addPdb({ name: 'a', matchLabels: { app: 'dup' }, minAvailable: 0 });
  h.double.addPdb({ name: 'b', matchLabels: { tier: 'x' }, minAvailable: 0 });
  const inner = new RecordingPower();
  await h.power(inner, { timeoutMs: 3_600_000 }).shutdown('powerdown');
  assert.equal(inner.calls.length, 1);
  assert.equal(h.double.pods.has('default/ok'), false, 'the other pod was still drained');
  assert.ok(await until(() => reasons(h.double).includes('DrainFailed')));
  assert.match(
    h.double.events.find((e) => e.reason === 'DrainFailed')?.message,
    /HTTP 500: This pod has more than one PodDisruptionBudget/,
  );
});

test('a pod that vanished before its eviction (404) counts as drained', async (t) => {
  const h = await harness();
  t.after(() => h.close());
  h.double.addNode('n1');
  h.double.addPod({ name: 'ghost', node: 'n1', owner: { kind: 'ReplicaSet', name: 'g' } });
  // The pod disappears between the list and the eviction.
  const orig = h.double.podsOn.bind(h.double);
  let listed = false;
  const realRoute = (h.double as any).route.bind(h.double);
  (h.double as any).route = (...a: any[]) => {
    const out = realRoute(...a);
    if (!listed && a[0] === 'GET' && String(a[1].pathname).endsWith('/pods')) {
      listed = true;
      h.double.pods.delete('default/ghost');
    }
    return out;
  };
  const inner = new RecordingPower();
  await h.power(inner).shutdown('powerdown');
  assert.equal(orig('n1').length, 0);
  assert.deepEqual(
    h.double.evictions().map((r) => r.status),
    [404],
  );
  assert.ok(await until(() => reasons(h.double).includes('Drained')));
});

// Each API call may take an hour and the double never answers: only the 1.5 s deadline can end the wait
// (the test's own timeout turns a hang into a failure).
test('API server hanging: the power action still happens at the deadline', { timeout: 120_000 }, async (t) => {
  const h = await harness();
  t.after(() => h.close());
  h.double.addNode('n1');
  h.double.hang = true;
  const inner = new RecordingPower();
  const t0 = Date.now();
  await h.power(inner, { timeoutMs: 1500, tuning: { retryMs: 100, pollMs: 25, callTimeoutMs: 3_600_000 } }).shutdown('reboot');
  assert.equal(inner.calls.length, 1);
  assert.ok((inner.calls[0]?.at as number) - t0 >= 1500, 'the drain was given its whole budget');
  assert.ok(
    h.lines.some((l) => l.kube === 'DrainFailed' && /no answer within/.test(l.msg)),
    'the reason is in the audit log',
  );
  assert.ok(h.lines.some((l) => l.kube === 'Proceeding'));
});

test('API server refusing connections: the power action still happens, after retrying within the deadline', {
  timeout: 120_000,
}, async (t) => {
  const h = await harness();
  t.after(() => h.close());
  // A port nothing listens on.
  const srv = net.createServer();
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  const port = (srv.address() as net.AddressInfo).port;
  await new Promise<void>((r) => srv.close(() => r()));
  const { KubeApi } = await import('../../src/kube/api.js');
  const { RestClient } = await import('../../src/kube/rest.js');
  const { Recorder } = await import('../../src/kube/events.js');
  const api = new KubeApi(new RestClient({ server: `http://127.0.0.1:${port}`, token: () => 'x' }));
  const inner = new RecordingPower();
  await h.power(inner, { api, recorder: new Recorder(api, 'n1', h.log), timeoutMs: 1500 }).shutdown('powerdown');
  assert.equal(inner.calls.length, 1);
  assert.ok(h.lines.some((l) => l.kube === 'DrainFailed' && /ECONNREFUSED/.test(l.msg)));
});

test('--drain auto leaves a self-draining OS alone; always drains anyway; never does not touch the API', async (t) => {
  const h = await harness();
  t.after(() => h.close());
  h.double.addNode('n1');
  h.double.addNode('n2');
  h.double.addPod({ name: 'w', node: 'n1', owner: { kind: 'ReplicaSet', name: 'w' } });
  // Talos: Shutdown drains by itself, Reboot does not.
  const talosLike = new RecordingPower((m) => m === 'powerdown');
  await h.power(talosLike).shutdown('powerdown');
  assert.equal(h.double.requests.length, 0, 'auto: no API call for a self-draining shutdown');
  await h.power(new RecordingPower(), { drain: 'never' }).shutdown('reboot');
  assert.equal(h.double.requests.length, 0, 'never: no API call');
  await h.power(talosLike, { drain: 'always' }).shutdown('powerdown');
  assert.equal(h.double.evictions().length, 1, 'always: drained');
  assert.deepEqual(
    talosLike.calls.map((c) => c.mode),
    ['powerdown', 'powerdown'],
  );
});

test('a second request during a drain joins it instead of draining twice', async (t) => {
  const h = await harness({ terminationMs: 200 });
  t.after(() => h.close());
  h.double.addNode('n1');
  h.double.addNode('n2');
  for (let i = 0; i < 3; i++) h.double.addPod({ name: `w${i}`, node: 'n1', owner: { kind: 'ReplicaSet', name: 'w' } });
  const inner = new RecordingPower();
  const p = h.power(inner);
  await Promise.all([p.shutdown('powerdown'), p.shutdown('powerdown')]);
  assert.equal(h.double.evictions().length, 3);
  assert.equal(reasons(h.double).filter((r) => r === 'ShutdownRequested').length, 1);
  assert.equal(inner.calls.length, 2, 'each request reaches the back end');
});

test('a failing power action uncordons the node and reports the back end error', async (t) => {
  const h = await harness();
  t.after(() => h.close());
  h.double.addNode('n1');
  const inner = new RecordingPower(() => false, 'logind refused: interactive authentication required');
  await assert.rejects(h.power(inner).shutdown('reboot'), /logind refused/);
  const node = h.double.nodes.get('n1') as any;
  assert.ok(await until(() => node.spec.unschedulable === false));
  assert.ok(await until(() => reasons(h.double).includes('PowerActionFailed')));
});

test('each rule in deploy/kubernetes/rbac.yaml is needed: without it the double answers 403 to a call the drain makes', async (t) => {
  const { readFileSync, writeFileSync, mkdtempSync, rmSync } = await import('node:fs');
  const os = await import('node:os');
  const path = await import('node:path');
  const { parseAllDocuments, stringify } = await import('yaml');
  const { RBAC_FILE } = await import('../doubles/kube-api.js');
  const dir = mkdtempSync(path.join(os.tmpdir(), 'guestlink-rbac-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const docs = parseAllDocuments(readFileSync(RBAC_FILE, 'utf8')).map((d) => d.toJSON());
  const cases: [string, string, string][] = [
    ['nodes', 'get', 'GET /api/v1/nodes/n1'],
    ['nodes', 'patch', 'PATCH /api/v1/nodes/n1'],
    ['pods', 'list', 'GET /api/v1/pods'],
    ['pods/eviction', 'create', 'POST /api/v1/namespaces/default/pods/w/eviction'],
    ['events', 'create', 'POST /api/v1/namespaces/default/events'],
  ];
  for (const [resource, verb, call] of cases) {
    const reduced = structuredClone(docs);
    for (const d of reduced)
      for (const r of d?.rules ?? []) if (r.resources.includes(resource)) r.verbs = r.verbs.filter((v: string) => v !== verb);
    const file = path.join(dir, `${resource.replace('/', '-')}-${verb}.yaml`);
    writeFileSync(file, reduced.map((d) => stringify(d)).join('---\n'));
    const h = await harness({ rbacFile: file });
    try {
      h.double.addNode('n1');
      h.double.addNode('n2');
      h.double.addPod({ name: 'w', node: 'n1', owner: { kind: 'ReplicaSet', name: 'w' } });
      await h.power(new RecordingPower(), { timeoutMs: 3000 }).shutdown('powerdown');
      await until(() => h.double.requests.some((r) => r.status === 403), 1000);
      const refused = h.double.requests.filter((r) => r.status === 403).map((r) => `${r.method} ${r.path.split('?')[0]}`);
      assert.ok(refused.includes(call), `without ${verb} ${resource}: ${call} refused (got ${refused})`);
    } finally {
      await h.close();
    }
  }
});
