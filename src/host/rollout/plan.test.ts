// The planner: order (workers first by default), batches of --max-unavailable workers, a
// control-plane node always alone in its batch (never two down: etcd quorum), and the warnings.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { RolloutError } from './errors.js';
import { makePlan, type Target } from './plan.js';
import type { NodeView } from './views.js';

const t = (node: string, cp = false): Target => ({ vm: `libvirt:${node}`, node, controlPlane: cp, matchedBy: 'host-name' });
const n = (name: string, cp = false): NodeView => ({ name, controlPlane: cp, ready: true, unschedulable: false, addresses: [] });
const names = (b: Target[][]) => b.map((x) => x.map((y) => y.node));

const targets = [t('cp-b', true), t('w3'), t('cp-a', true), t('w1'), t('cp-c', true), t('w2')];
const cluster = targets.map((x) => n(x.node, x.controlPlane));

test('workers-first (default): workers by name one at a time, then control-plane nodes by name', () => {
  const p = makePlan(targets, cluster, { order: 'workers-first', maxUnavailable: 1 });
  assert.deepEqual(names(p.batches), [['w1'], ['w2'], ['w3'], ['cp-a'], ['cp-b'], ['cp-c']]);
  assert.deepEqual(p.warnings, []);
});

test('control-planes-first and given orders', () => {
  assert.deepEqual(names(makePlan(targets, cluster, { order: 'control-planes-first', maxUnavailable: 1 }).batches), [
    ['cp-a'],
    ['cp-b'],
    ['cp-c'],
    ['w1'],
    ['w2'],
    ['w3'],
  ]);
  assert.deepEqual(names(makePlan(targets, cluster, { order: 'given', maxUnavailable: 1 }).batches), [
    ['cp-b'],
    ['w3'],
    ['cp-a'],
    ['w1'],
    ['cp-c'],
    ['w2'],
  ]);
});

test('max-unavailable batches workers; a control-plane node is never batched with another node', () => {
  assert.deepEqual(names(makePlan(targets, cluster, { order: 'workers-first', maxUnavailable: 2 }).batches), [
    ['w1', 'w2'],
    ['w3'],
    ['cp-a'],
    ['cp-b'],
    ['cp-c'],
  ]);
  const given = makePlan(targets, cluster, { order: 'given', maxUnavailable: 5 });
  assert.deepEqual(names(given.batches), [['cp-b'], ['w3'], ['cp-a'], ['w1'], ['cp-c'], ['w2']]);
  for (const b of given.batches)
    assert.ok(b.filter((x) => x.controlPlane).length <= 1 && (b.length === 1 || !b.some((x) => x.controlPlane)));
  const many = makePlan(targets, cluster, { order: 'workers-first', maxUnavailable: 100 });
  assert.deepEqual(names(many.batches), [['w1', 'w2', 'w3'], ['cp-a'], ['cp-b'], ['cp-c']]);
  assert.match(many.warnings.join('\n'), /batch 1 takes down every worker node at once/);
});

test('max-unavailable below 1 or not whole is refused', () => {
  for (const bad of [0, -1, 1.5, Number.NaN])
    assert.throws(
      () => makePlan(targets, cluster, { order: 'workers-first', maxUnavailable: bad }),
      (e: RolloutError) => e.code === 'ROLLOUT_USAGE',
    );
});

test('warnings: the only control-plane node, two control-plane nodes, none labelled', () => {
  const one = makePlan([t('cp', true), t('w')], [n('cp', true), n('w'), n('w2')], { order: 'workers-first', maxUnavailable: 1 });
  assert.match(one.warnings.join('\n'), /cp is the only control-plane node: the API server is unavailable while it reboots/);
  const two = makePlan([t('a', true)], [n('a', true), n('b', true), n('w')], { order: 'workers-first', maxUnavailable: 1 });
  assert.match(two.warnings.join('\n'), /2 control-plane nodes: an etcd of 2 members loses quorum/);
  const none = makePlan([t('a'), t('b')], [n('a'), n('b'), n('c')], { order: 'workers-first', maxUnavailable: 1 });
  assert.match(none.warnings.join('\n'), /no Node carries the node-role.kubernetes.io\/control-plane label/);
});
