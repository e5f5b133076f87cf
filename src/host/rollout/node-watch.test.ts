// One node's reboot as the API shows it: the evidence the watch needs before calling it done, and
// every way it fails (undrained reboot, cordon undone, refusal, undelivered request, timeout).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { NodeWatch, UNDELIVERED_GRACE_MS } from './node-watch.js';
import type { NodeView } from './views.js';

const T0 = 1_000_000;
const start = (o: Partial<ConstructorParameters<typeof NodeWatch>[0]> = {}) =>
  new NodeWatch({ node: 'w1', bootIdBefore: 'boot-1', cordonedBefore: false, requestedAt: T0, nodeTimeoutMs: 60_000, ...o });
const view = (o: Partial<NodeView> = {}): NodeView => ({
  name: 'w1',
  controlPlane: false,
  ready: true,
  unschedulable: false,
  bootId: 'boot-1',
  addresses: [],
  ...o,
});
const rec = { bootId: 'boot-1', mode: 'reboot' as const, requested: '', deadline: '', cordoned: true, phase: 'draining' as const };

test('cordoned -> down -> booted -> ready -> uncordoned: done with the new boot id', () => {
  const w = start();
  assert.equal(w.observe(view(), T0 + 1).kind, 'continue');
  assert.equal(w.phase, 'requested');
  w.observe(view({ unschedulable: true, lifecycle: rec }), T0 + 2);
  assert.equal(w.phase, 'cordoned');
  w.observe(view({ unschedulable: true, lifecycle: rec, ready: false }), T0 + 3);
  assert.equal(w.phase, 'down');
  w.observe(view({ unschedulable: true, lifecycle: rec, ready: false, bootId: 'boot-2' }), T0 + 4);
  assert.equal(w.phase, 'booted');
  w.observe(view({ unschedulable: true, lifecycle: rec, bootId: 'boot-2' }), T0 + 5);
  assert.equal(w.phase, 'ready');
  assert.deepEqual(w.observe(view({ bootId: 'boot-2' }), T0 + 6), { kind: 'done', bootIdAfter: 'boot-2' });
});

test('a new boot id without any cordon seen: rebooted undrained, fails', () => {
  const r = start().observe(view({ bootId: 'boot-2' }), T0 + 1);
  assert.equal(r.kind, 'failed');
  assert.match((r as { message: string }).message, /without being cordoned and drained first/);
});

test('with the API out of sight meanwhile, an unseen cordon is a warning, not a failure', () => {
  const w = start();
  w.observe(view(), T0 + 1);
  w.blind();
  assert.equal(w.observe(view({ bootId: 'boot-2' }), T0 + 2).kind, 'done');
  assert.match(w.warning ?? '', /no cordon was seen before the reboot, but the API server was out of reach/);
});

test('a node cordoned by someone else before (--ignore-cordoned) is done once the record is gone, cordon kept', () => {
  const w = start({ cordonedBefore: true });
  w.observe(view({ unschedulable: true, lifecycle: { ...rec, cordoned: false } }), T0 + 1);
  w.observe(view({ unschedulable: true, ready: false, bootId: 'boot-2', lifecycle: { ...rec, cordoned: false } }), T0 + 2);
  assert.equal(w.observe(view({ unschedulable: true, bootId: 'boot-2' }), T0 + 3).kind, 'done');
});

test('the agent undid its cordon with the same boot id: the reboot was given up', () => {
  const w = start();
  w.observe(view({ unschedulable: true, lifecycle: rec }), T0 + 1);
  const r = w.observe(view(), T0 + 2);
  assert.equal(r.kind, 'failed');
  assert.match((r as { message: string }).message, /undid the cordon without rebooting/);
  assert.equal(w.failedIn, 'cordoned');
});

test('an error reply from the agent fails the node unless it rebooted anyway', () => {
  const w = start();
  w.refused('reboot refused: the node was not drained');
  const r = w.observe(view(), T0 + 1);
  assert.match((r as { message: string }).message, /refused the reboot: reboot refused/);
  const w2 = start();
  w2.observe(view({ unschedulable: true }), T0 + 1);
  w2.refused('late');
  assert.equal(w2.observe(view({ unschedulable: true, ready: false, bootId: 'boot-2' }), T0 + 2).kind, 'continue');
});

test('a request that may not have arrived fails after the grace period with no sign of it', () => {
  const w = start({ nodeTimeoutMs: 10 * UNDELIVERED_GRACE_MS });
  w.undelivered('cannot connect to /run/qga.sock', T0);
  assert.equal(w.observe(view(), T0 + UNDELIVERED_GRACE_MS - 1).kind, 'continue');
  const r = w.observe(view(), T0 + UNDELIVERED_GRACE_MS + 1);
  assert.match((r as { message: string }).message, /did not reach the agent/);
  const w2 = start({ nodeTimeoutMs: 10 * UNDELIVERED_GRACE_MS });
  w2.undelivered('timed out', T0);
  w2.observe(view({ unschedulable: true, lifecycle: rec }), T0 + 1);
  assert.equal(w2.observe(view({ unschedulable: true, lifecycle: rec }), T0 + 2 * UNDELIVERED_GRACE_MS).kind, 'continue');
});

test('past --node-timeout: fails saying where the node got to', () => {
  const w = start();
  w.observe(view({ unschedulable: true, lifecycle: rec, ready: false }), T0 + 1);
  const r = w.observe(view({ unschedulable: true, lifecycle: rec, ready: false }), T0 + 60_001);
  assert.match((r as { message: string }).message, /did not come back within --node-timeout 1m:/);
  assert.match((r as { message: string }).message, /went down and has not come back/);
  const w2 = start();
  w2.observe(view({ unschedulable: true, lifecycle: rec, bootId: 'boot-2' }), T0 + 1);
  const r2 = w2.observe(view({ unschedulable: true, lifecycle: rec, bootId: 'boot-2' }), T0 + 60_001);
  assert.match((r2 as { message: string }).message, /Ready, but still cordoned: its agent has not uncordoned it/);
  const r3 = start().timeoutCheck(T0 + 60_001, 'connect ECONNREFUSED');
  assert.match((r3 as { message: string }).message, /no sign of the reboot.*last API error: connect ECONNREFUSED/);
});
