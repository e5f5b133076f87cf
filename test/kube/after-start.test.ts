// What a starting agent does with a cordon it finds: undo its own from an earlier boot once the
// Node is Ready again, leave anyone else's, and resume (or settle) a drain its own restart cut short.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { afterStart } from '../../src/kube/after-start.js';
import { LIFECYCLE_ANNOTATION, type LifecycleRecord } from '../../src/kube/cordon.js';
import { Recorder } from '../../src/kube/events.js';
import { harness, nodeReads, RecordingPower, reasons, until } from './setup.js';

function record(r: Partial<LifecycleRecord>): Record<string, string> {
  const full: LifecycleRecord = {
    bootId: 'boot-0',
    mode: 'reboot',
    requested: new Date(Date.now() - 120_000).toISOString(),
    deadline: new Date(Date.now() - 70_000).toISOString(),
    cordoned: true,
    phase: 'handed-over',
    ...r,
  };
  return { [LIFECYCLE_ANNOTATION]: JSON.stringify(full) };
}

async function setup(node: Parameters<Awaited<ReturnType<typeof harness>>['double']['addNode']>[1]) {
  const h = await harness();
  h.double.addNode('n1', node);
  h.double.addNode('n2');
  const inner = new RecordingPower();
  const recorder = new Recorder(h.api, 'n1', h.log);
  const power = h.power(inner, { recorder, bootId: 'boot-1' });
  const run = (bootTime = Date.now() - 30_000) =>
    afterStart({ api: h.api, nodeName: 'n1', bootId: 'boot-1', bootTime, power, recorder, log: h.log, pollMs: 30 });
  return { h, inner, run, node: h.double.nodes.get('n1') as any };
}

test('after a reboot: uncordons once this boot reports Ready, and removes the record', async (t) => {
  // The Node still shows the last boot's Ready (an old heartbeat) when the agent starts.
  const { h, run, node } = await setup({
    unschedulable: true,
    annotations: record({}),
    heartbeat: new Date(Date.now() - 60_000).toISOString(),
  });
  t.after(() => h.close());
  const done = run();
  await nodeReads(h.double, 'n1');
  assert.equal(node.spec.unschedulable, true, 'not before the kubelet of this boot says Ready');
  h.double.setNodeReady('n1', false);
  await nodeReads(h.double, 'n1');
  assert.equal(node.spec.unschedulable, true, 'not while NotReady');
  h.double.setNodeReady('n1', true);
  assert.equal(await done, 'uncordoned');
  assert.equal(node.spec.unschedulable, false);
  assert.equal(node.metadata.annotations[LIFECYCLE_ANNOTATION], undefined);
  assert.ok(await until(() => reasons(h.double).includes('Uncordoned')));
});

test('a node cordoned by someone else stays cordoned', async (t) => {
  const { h, run, node } = await setup({ unschedulable: true });
  t.after(() => h.close());
  assert.equal(await run(), 'nothing');
  assert.equal(node.spec.unschedulable, true);
  assert.equal(h.double.requests.filter((r) => r.method === 'PATCH').length, 0);
});

test('a node cordoned by someone else before our drain stays cordoned after the reboot', async (t) => {
  const h = await harness();
  t.after(() => h.close());
  h.double.addNode('n1', { unschedulable: true });
  await h.power(new RecordingPower(), { bootId: 'boot-0' }).shutdown('reboot');
  const node = h.double.nodes.get('n1') as any;
  assert.equal(JSON.parse(node.metadata.annotations[LIFECYCLE_ANNOTATION]).cordoned, false);
  // Next boot.
  h.double.setNodeReady('n1', true);
  const recorder = new Recorder(h.api, 'n1', h.log);
  const power = h.power(new RecordingPower(), { recorder, bootId: 'boot-1' });
  const out = await afterStart({
    api: h.api,
    nodeName: 'n1',
    bootId: 'boot-1',
    bootTime: Date.now() - 10_000,
    power,
    recorder,
    log: h.log,
    pollMs: 30,
  });
  assert.equal(out, 'record-removed');
  assert.equal(node.spec.unschedulable, true, "someone else's cordon is kept");
  assert.equal(node.metadata.annotations[LIFECYCLE_ANNOTATION], undefined);
});

test('someone uncordoned the node while it was down: only the record goes', async (t) => {
  const { h, run, node } = await setup({ unschedulable: false, annotations: record({}) });
  t.after(() => h.close());
  assert.equal(await run(Date.now() - 120_000), 'record-removed');
  assert.equal(node.spec.unschedulable ?? false, false);
  assert.equal(node.metadata.annotations[LIFECYCLE_ANNOTATION], undefined);
});

test('agent restarted mid-drain (same boot, deadline ahead): the drain resumes and the recorded action follows', async (t) => {
  const { h, inner, run, node } = await setup({
    unschedulable: true,
    annotations: record({ bootId: 'boot-1', phase: 'draining', mode: 'halt', deadline: new Date(Date.now() + 5000).toISOString() }),
  });
  t.after(() => h.close());
  // One pod was already evicted before the restart; two are left.
  for (let i = 0; i < 2; i++) h.double.addPod({ name: `w${i}`, node: 'n1', owner: { kind: 'ReplicaSet', name: 'w' } });
  assert.equal(await run(), 'resumed');
  assert.ok(await until(() => inner.calls.length === 1), 'the power action happens');
  assert.equal(inner.calls[0]?.mode, 'halt');
  assert.equal(h.double.podsOn('n1').length, 0);
  assert.equal(JSON.parse(node.metadata.annotations[LIFECYCLE_ANNOTATION]).cordoned, true, 'still our cordon');
  assert.ok(await until(() => reasons(h.double).includes('Proceeding')));
  assert.ok(reasons(h.double).includes('DrainResumed'));
  assert.ok(await until(() => JSON.parse(node.metadata.annotations[LIFECYCLE_ANNOTATION]).phase === 'handed-over'));
});

test('agent restarted mid-drain after the deadline, policy abort: no power action, uncordoned', async (t) => {
  const h = await harness();
  t.after(() => h.close());
  h.double.addNode('n1', { unschedulable: true, annotations: record({ bootId: 'boot-1', phase: 'draining' }) });
  const inner = new RecordingPower();
  const recorder = new Recorder(h.api, 'n1', h.log);
  const power = h.power(inner, { recorder, bootId: 'boot-1', onTimeout: 'abort' });
  assert.equal(await afterStart({ api: h.api, nodeName: 'n1', bootId: 'boot-1', bootTime: 0, power, recorder, log: h.log }), 'resumed');
  const node = h.double.nodes.get('n1') as any;
  assert.ok(await until(() => node.spec.unschedulable === false));
  assert.equal(inner.calls.length, 0);
  assert.ok(await until(() => reasons(h.double).includes('DrainAborted')));
});

test('agent restarted in the same boot after handing the action over: leaves the cordon, warns', async (t) => {
  const { h, inner, run, node } = await setup({ unschedulable: true, annotations: record({ bootId: 'boot-1', phase: 'handed-over' }) });
  t.after(() => h.close());
  assert.equal(await run(), 'still-up');
  assert.equal(node.spec.unschedulable, true);
  assert.equal(inner.calls.length, 0, 'the action is not repeated');
  assert.ok(await until(() => reasons(h.double).includes('StillUp')));
});

test('the Node not registered yet (404) and the API down at first: keeps checking', async (t) => {
  const h = await harness();
  t.after(() => h.close());
  const inner = new RecordingPower();
  const recorder = new Recorder(h.api, 'n1', h.log);
  const power = h.power(inner, { recorder, bootId: 'boot-1' });
  const done = afterStart({
    api: h.api,
    nodeName: 'n1',
    bootId: 'boot-1',
    bootTime: Date.now() - 5000,
    power,
    recorder,
    log: h.log,
    pollMs: 20,
  });
  await nodeReads(h.double, 'n1');
  h.double.addNode('n1', { unschedulable: true, annotations: record({}) });
  assert.equal(await done, 'uncordoned');
});

test('a new drain starting before the node is Ready again is not undone, and keeps the cordon ours', async (t) => {
  const h = await harness({ terminationMs: 300 });
  t.after(() => h.close());
  h.double.addNode('n1', { unschedulable: true, annotations: record({}), heartbeat: new Date(Date.now() - 60_000).toISOString() });
  h.double.addNode('n2');
  h.double.addPod({ name: 'w', node: 'n1', owner: { kind: 'ReplicaSet', name: 'w' } });
  const node = h.double.nodes.get('n1') as any;
  const inner = new RecordingPower();
  const recorder = new Recorder(h.api, 'n1', h.log);
  // One KubePower for both paths, as in the agent.
  const power = h.power(inner, { recorder, bootId: 'boot-1' });
  const checking = afterStart({
    api: h.api,
    nodeName: 'n1',
    bootId: 'boot-1',
    bootTime: Date.now() - 30_000,
    power,
    recorder,
    log: h.log,
    pollMs: 20,
  });
  await nodeReads(h.double, 'n1');
  // The hypervisor asks again while the node is still coming up.
  const drain = power.shutdown('powerdown');
  await until(() => JSON.parse(node.metadata.annotations[LIFECYCLE_ANNOTATION]).bootId === 'boot-1');
  h.double.setNodeReady('n1', true);
  await drain;
  assert.notEqual(await checking, 'uncordoned');
  assert.equal(node.spec.unschedulable, true, 'the new drain keeps the node cordoned');
  const rec = JSON.parse(node.metadata.annotations[LIFECYCLE_ANNOTATION]);
  assert.deepEqual([rec.bootId, rec.cordoned], ['boot-1', true], "still guestlink's cordon, to undo after the next boot");
  assert.equal(inner.calls.length, 1);
});
