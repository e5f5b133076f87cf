// The rollout against a simulated cluster whose agents run guestlink's real drain and uncordon
// code (sim.ts): strictly one node down at a time in the planned order, each node cordoned,
// drained, rebooted, back with a new boot id and uncordoned before the next; batches; the stop at
// the first failure, leaving the node as it is; resume without a second reboot; Ctrl-C.
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { afterEach, beforeEach, describe, test } from 'node:test';
import { Interrupt } from '../../src/host/rollout/interrupt.js';
import { readState } from '../../src/host/rollout/state.js';
import { LIFECYCLE_ANNOTATION } from '../../src/kube/cordon.js';
import { orderOf, rollout } from './run.js';
import { maxDownAtOnce, SimCluster } from './sim.js';

let sim: SimCluster;
beforeEach(async () => {
  sim = await new SimCluster().start();
});
afterEach(() => sim.stop());

const cordons = (node: string) =>
  sim.api.requests.filter(
    (r) => r.method === 'PATCH' && r.path === `/api/v1/nodes/${node}` && (r.body as any)?.spec?.unschedulable === true,
  );
const uncordons = (node: string) =>
  sim.api.requests.filter(
    (r) => r.method === 'PATCH' && r.path === `/api/v1/nodes/${node}` && (r.body as any)?.spec?.unschedulable === false,
  );

describe('a rolling reboot of three nodes', () => {
  test('workers first, one at a time: cordon -> drain -> down -> new boot id -> uncordon, then the next', async () => {
    await sim.addVm({ node: 'cp1', controlPlane: true });
    await sim.addVm({ node: 'w2' });
    await sim.addVm({ node: 'w1' });
    sim.addWorkloads(3);
    const boots = new Map(sim.vms.map((v) => [v.o.node, v.bootId]));
    const { state, events } = await rollout(sim);
    assert.equal(state.result, 'done', JSON.stringify(state.failure));
    assert.deepEqual(orderOf(events, 'requested'), ['w1', 'w2', 'cp1']);
    assert.deepEqual(orderOf(events, 'done'), ['w1', 'w2', 'cp1']);
    assert.equal(maxDownAtOnce(sim.events), 1);
    for (const v of sim.vms) {
      assert.equal(v.reboots, 1, `${v.o.node} rebooted once`);
      const n = state.nodes.find((x) => x.node === v.o.node);
      assert.equal(n?.bootIdBefore, boots.get(v.o.node));
      assert.equal(n?.bootIdAfter, v.bootId);
      assert.notEqual(n?.bootIdAfter, n?.bootIdBefore);
    }
    // Per node, in time: the agent's cordon, its evictions, the machine down and up, the uncordon;
    // all before the next node's reboot is requested.
    const order = ['w1', 'w2', 'cp1'];
    for (const [i, node] of order.entries()) {
      const cordon = cordons(node)[0]?.at ?? Number.NaN;
      const down = sim.events.find((e) => e.node === node && e.what === 'down')?.at ?? Number.NaN;
      const up = sim.events.find((e) => e.node === node && e.what === 'up')?.at ?? Number.NaN;
      const uncordon = uncordons(node)[0]?.at ?? Number.NaN;
      const evictions = sim.api.evictions().filter((r) => r.at >= cordon && r.at <= down);
      assert.ok(cordon <= down && down < up && up <= uncordon, `${node}: cordon ${cordon} down ${down} up ${up} uncordon ${uncordon}`);
      const next = order[i + 1];
      if (next) {
        const nextRequest = sim.events.find((e) => e.node === next && e.what === 'request')?.at ?? Number.NaN;
        assert.ok(uncordon <= nextRequest, `${node} uncordoned before ${next} was asked`);
      }
      assert.ok(evictions.length >= 1, `${node}: its web pod was evicted before it went down`);
    }
    assert.equal(sim.api.nodes.get('w1')?.metadata.annotations[LIFECYCLE_ANNOTATION], undefined);
    assert.ok(events.some((e) => e.event === 'gate' && e.gate === 'post' && e.ok));
    // The rollout itself only read: every write came from the agents (service account).
    assert.ok(sim.api.requests.filter((r) => r.user === 'rollout-operator').every((r) => r.method === 'GET' && r.status < 400));
  });

  test('--max-unavailable 2: two workers at once, the control-plane node alone after them', async () => {
    await sim.addVm({ node: 'cp1', controlPlane: true });
    for (const n of ['w1', 'w2', 'w3']) await sim.addVm({ node: n, downMs: 300 });
    const { state, prepared } = await rollout(sim, { maxUnavailable: 2 });
    assert.equal(state.result, 'done', JSON.stringify(state.failure));
    assert.deepEqual(
      prepared.plan.batches.map((b) => b.map((t) => t.node)),
      [['w1', 'w2'], ['w3'], ['cp1']],
    );
    assert.equal(maxDownAtOnce(sim.events), 2);
    const cpDown = sim.events.find((e) => e.node === 'cp1' && e.what === 'down')?.at ?? 0;
    for (const n of ['w1', 'w2', 'w3']) assert.ok((sim.events.find((e) => e.node === n && e.what === 'up')?.at ?? Infinity) < cpDown);
  });
});

describe('stopping', () => {
  test('a node that never comes back stops the rollout: the next is not touched, the node left as it is', async () => {
    await sim.addVm({ node: 'w1', neverBack: true });
    await sim.addVm({ node: 'w2' });
    const { state, events } = await rollout(sim, { nodeTimeoutMs: 1500 });
    assert.equal(state.result, 'failed');
    assert.equal(state.failure?.code, 'ROLLOUT_NODE');
    assert.equal(state.failure?.node, 'w1');
    assert.match(state.failure?.message ?? '', /w1 did not come back within --node-timeout 2s: it went down and has not come back/);
    assert.equal(sim.vm('w2').reboots, 0);
    assert.equal(sim.api.nodes.get('w1')?.spec.unschedulable, true, 'left cordoned');
    const end = events.at(-1);
    assert.equal(end?.event === 'end' && end.resume, 'guestlink rollout reboot ... --resume');
  });

  test('the agent refusing the reboot stops the rollout with its reason', async () => {
    await sim.addVm({ node: 'w1', refuse: 'reboot refused: the node was not drained (drain-on-timeout abort)' });
    await sim.addVm({ node: 'w2' });
    const { state } = await rollout(sim);
    assert.equal(state.failure?.code, 'ROLLOUT_NODE');
    assert.match(state.failure?.message ?? '', /the agent on w1 refused the reboot: reboot refused: the node was not drained/);
    assert.equal(sim.vm('w2').reboots, 0);
  });

  test('an agent without the Kubernetes lifecycle (reboots undrained) stops the rollout after that node', async () => {
    await sim.addVm({ node: 'w1', noDrain: true });
    await sim.addVm({ node: 'w2' });
    const { state } = await rollout(sim);
    assert.equal(state.failure?.code, 'ROLLOUT_NODE');
    assert.match(state.failure?.message ?? '', /rebooted .* without being cordoned and drained first/);
    assert.equal(sim.vm('w2').reboots, 0);
  });

  test('a workload that does not come back fails the post-gate (exit code class ROLLOUT_GATE)', async () => {
    await sim.addVm({ node: 'w1' });
    await sim.addVm({ node: 'w2' });
    // A StatefulSet pod pinned to w1 that is never rescheduled and never Ready again.
    sim.api.addPod({ name: 'db-0', node: 'w1', owner: { kind: 'Job', name: 'db' }, labels: { app: 'db' } });
    sim.cluster.addStatefulSet({ name: 'db', replicas: 1, matchLabels: { app: 'db' } });
    const { state } = await rollout(sim, { settleTimeoutMs: 1000 });
    assert.equal(state.failure?.code, 'ROLLOUT_GATE');
    assert.match(
      state.failure?.message ?? '',
      /post-gate: the cluster did not settle within --settle-timeout 1s after batch 1: workloads-ready: not ready: StatefulSet default\/db 0\/1/,
    );
    assert.equal(state.nodes[0]?.status, 'rebooted');
    assert.equal(sim.vm('w2').reboots, 0);
  });

  test('a node cordoned by someone else stops the rollout before anything starts, unless --ignore-cordoned', async () => {
    await sim.addVm({ node: 'w1' });
    await sim.addVm({ node: 'w2' });
    await sim.addVm({ node: 'w3' });
    (sim.api.nodes.get('w3') as any).spec.unschedulable = true;
    const first = await rollout(sim, { targets: [sim.vm('w1').address, sim.vm('w2').address] });
    assert.equal(first.state.failure?.code, 'ROLLOUT_GATE');
    assert.match(first.state.failure?.message ?? '', /no-foreign-cordon: cordoned by someone else: w3/);
    assert.equal(sim.vm('w1').reboots, 0);
    const second = await rollout(sim, {
      targets: [sim.vm('w1').address, sim.vm('w2').address],
      ignoreCordoned: true,
      state: path.join(sim.dir, 'state2.json'),
    });
    assert.equal(second.state.result, 'done', JSON.stringify(second.state.failure));
    assert.equal(sim.api.nodes.get('w3')?.spec.unschedulable, true, "someone else's cordon is kept");
  });
});

describe('resume', () => {
  test('after a failure: --resume finishes without rebooting a finished node twice', async () => {
    await sim.addVm({ node: 'w1' });
    await sim.addVm({ node: 'w2', refuse: 'power back end failed' });
    await sim.addVm({ node: 'w3' });
    const first = await rollout(sim);
    assert.equal(first.state.result, 'failed');
    assert.deepEqual(
      first.state.nodes.map((n) => [n.node, n.status]),
      [
        ['w1', 'done'],
        ['w2', 'failed'],
        ['w3', 'pending'],
      ],
    );
    // Without --resume, the unfinished rollout is not started over.
    await assert.rejects(rollout(sim), /an unfinished rollout is recorded in .* continue it with --resume/);
    delete sim.vm('w2').o.refuse;
    const second = await rollout(sim, { resume: true });
    assert.equal(second.state.result, 'done', JSON.stringify(second.state.failure));
    assert.deepEqual(
      sim.vms.map((v) => [v.o.node, v.reboots]),
      [
        ['w1', 1],
        ['w2', 1],
        ['w3', 1],
      ],
    );
    assert.deepEqual(orderOf(second.events, 'requested'), ['w2', 'w3']);
  });

  test('Ctrl-C during a node: it finishes that node (back, uncordoned, settled), stops, and --resume does the rest', async () => {
    await sim.addVm({ node: 'w1', downMs: 300 });
    await sim.addVm({ node: 'w2' });
    const interrupt = new Interrupt();
    const first = await rollout(sim, {
      interrupt,
      onEvent: (e) => {
        if (e.event === 'phase' && e.node === 'w1' && e.phase === 'down') interrupt.raise();
      },
    });
    assert.equal(first.state.result, 'interrupted');
    assert.equal(first.state.failure?.code, 'ROLLOUT_INTERRUPTED');
    assert.deepEqual(
      first.state.nodes.map((n) => n.status),
      ['done', 'pending'],
    );
    assert.equal(sim.vm('w2').reboots, 0);
    const state = readState(path.join(sim.dir, 'state.json'));
    assert.equal(state?.result, 'interrupted');
    const second = await rollout(sim, { resume: true });
    assert.equal(second.state.result, 'done');
    assert.deepEqual(
      sim.vms.map((v) => v.reboots),
      [1, 1],
    );
  });

  test('a second Ctrl-C stops at once; --resume watches the node in flight instead of rebooting it again', async () => {
    await sim.addVm({ node: 'w1', downMs: 600 });
    await sim.addVm({ node: 'w2' });
    const interrupt = new Interrupt();
    const first = await rollout(sim, {
      interrupt,
      onEvent: (e) => {
        if (e.event === 'phase' && e.node === 'w1' && e.phase === 'down') {
          interrupt.raise();
          interrupt.raise();
        }
      },
    });
    assert.equal(first.state.result, 'interrupted');
    assert.equal(first.state.nodes[0]?.status, 'rebooting');
    assert.ok(first.state.nodes[0]?.bootIdBefore);
    const second = await rollout(sim, { resume: true });
    assert.equal(second.state.result, 'done', JSON.stringify(second.state.failure));
    assert.deepEqual(
      sim.vms.map((v) => v.reboots),
      [1, 1],
    );
    assert.ok(existsSync(path.join(sim.dir, 'state.json')));
  });
});
