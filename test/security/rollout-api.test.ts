// Attacks on the rollout from the API server's side (or a proxy or login page in its place): HTML
// instead of JSON, objects without names, Node names with escape sequences, counts that are not
// counts, endless continue tokens, oversized answers, an API server that hangs, one that refuses
// the credentials, and one that turns to garbage in the middle of a reboot. Each ends in a clear
// error (exit 3 before anything started), bounded in time and memory, printed escaped; never a
// crash, a hang, or a gate passed for lack of data.
import assert from 'node:assert/strict';
import path from 'node:path';
import { afterEach, beforeEach, test } from 'node:test';
import { Cluster } from '../../src/host/rollout/cluster.js';
import { RestClient } from '../../src/kube/rest.js';
import { runCli } from '../cli/run-cli.js';
import type { Route } from '../doubles/kube-api.js';
import { ROLLOUT_TOKEN } from '../doubles/kube-workloads.js';
import { rollout } from '../rollout/run.js';
import { SimCluster } from '../rollout/sim.js';

let sim: SimCluster;
beforeEach(async () => {
  sim = await new SimCluster().start();
  await sim.addVm({ node: 'w1' });
  await sim.addVm({ node: 'w2' });
});
afterEach(() => sim.stop());

const cli = () =>
  runCli(['rollout', 'reboot', ...sim.vms.map((v) => v.address), '--kubeconfig', sim.kubeconfig], {
    env: { XDG_STATE_HOME: path.join(sim.dir, 'xdg') },
    timeoutMs: 60_000,
  });
/** Answers `p` with `answer` before the double's own routes; returns how to undo it. */
function override(p: string, answer: [number, Record<string, any> | string]): () => void {
  const r: Route = ({ url }) => (url.pathname === p ? answer : undefined);
  sim.api.routes.unshift(r);
  return () => sim.api.routes.splice(sim.api.routes.indexOf(r), 1);
}
const rebooted = () => sim.vms.reduce((a, v) => a + v.reboots, 0);

test('HTML (a login page or proxy) instead of a NodeList: exit 3, says what it got, nothing started', async () => {
  override('/api/v1/nodes', [200, '<html><body>Please log in</body></html>']);
  const r = await cli();
  assert.equal(r.status, 3, r.stderr);
  assert.match(
    r.stderr,
    /the API server sent a NodeList that is not valid: no items array; is the kubeconfig's server a Kubernetes API server \(not a proxy or a login page\)\?/,
  );
  assert.equal(rebooted(), 0);
});

test('objects without names, hostile Node names and non-counts are errors naming the object, escaped', async () => {
  const cases: [string, Record<string, any>, RegExp][] = [
    ['/api/v1/nodes', { kind: 'NodeList', items: [{ metadata: {} }] }, /a Node that is not valid: no metadata\.name/],
    [
      '/api/v1/nodes',
      { kind: 'NodeList', items: [{ metadata: { name: '\x1b]0;owned\x07' } }] },
      /its name "\\x1b\]0;owned\\x07" is not a valid Node name/,
    ],
    ['/api/v1/nodes', { kind: 'NodeList', items: 'all of them' }, /no items array/],
    [
      '/apis/apps/v1/deployments',
      {
        kind: 'DeploymentList',
        items: [{ metadata: { name: 'web', namespace: 'default' }, spec: { replicas: 2 }, status: { readyReplicas: -1 } }],
      },
      /Deployment default\/web that is not valid: readyReplicas is -1/,
    ],
    [
      '/apis/apps/v1/statefulsets',
      { kind: 'StatefulSetList', items: [{ metadata: { name: 'db' }, spec: { replicas: '3' } }] },
      /StatefulSet default\/db that is not valid: replicas is "3"/,
    ],
    [
      '/apis/policy/v1/poddisruptionbudgets',
      { kind: 'PodDisruptionBudgetList', items: [{ metadata: { name: 'p', namespace: 'x' }, status: { currentHealthy: 1.5 } }] },
      /PodDisruptionBudget x\/p that is not valid: currentHealthy is 1\.5/,
    ],
  ];
  for (const [p, body, msg] of cases) {
    const undo = override(p, [200, body]);
    const r = await cli();
    undo();
    assert.equal(r.status, 3, `${p}: ${r.stderr}`);
    assert.match(r.stderr, msg, p);
    assert.doesNotMatch(r.stderr, /[\x00-\x09\x0b-\x1f\x7f-\x9f]/);
  }
  assert.equal(rebooted(), 0);
});

test('endless continue tokens stop after the page cap instead of looping', async () => {
  let pages = 0;
  sim.api.routes.unshift(({ url }) => {
    if (url.pathname !== '/api/v1/nodes') return undefined;
    pages++;
    return [200, { kind: 'NodeList', metadata: { continue: `more-${pages}` }, items: [] }];
  });
  const r = await cli();
  assert.equal(r.status, 3, r.stderr);
  assert.match(r.stderr, /\/api\/v1\/nodes: more than 101 pages; the API server keeps asking to continue/);
  assert.equal(pages, 101, 'no request past the cap');
});

test('an oversized answer is cut off at the cap, not read into memory', async () => {
  override('/readyz', [200, 'x'.repeat(3 << 20)]);
  const rest = new RestClient({ server: sim.api.url, token: () => ROLLOUT_TOKEN });
  try {
    await assert.rejects(new Cluster(rest).readyz(), /GET \/readyz: answer larger than 1048576 bytes/);
  } finally {
    rest.close();
  }
  const r = await cli();
  assert.equal(r.status, 3);
  assert.match(r.stderr, /answer larger than 1048576 bytes/);
});

test('an API server that hangs: exit 3 after the call deadline; one that refuses the token: exit 3 saying so', async () => {
  sim.api.hang = true;
  const hung = await cli();
  assert.equal(hung.status, 3, hung.stderr);
  assert.match(hung.stderr, /no answer within 10000 ms \(API server http:\/\/127\.0\.0\.1:\d+\); nothing was started/);
  sim.api.hang = false;
  sim.api.tokens.clear();
  const refused = await cli();
  assert.equal(refused.status, 3);
  assert.match(refused.stderr, /HTTP 401.*the token or client certificate was refused/);
  assert.equal(rebooted(), 0);
});

test('garbage in the middle of a reboot: the rollout waits it out to its deadline and stops cleanly, saying why', async () => {
  sim.vm('w1').o.neverBack = true;
  let garbage = false;
  sim.api.routes.unshift(({ url }) =>
    garbage && url.pathname.startsWith('/api/v1/nodes') ? [200, '<html>gateway error</html>'] : undefined,
  );
  const { state } = await rollout(sim, {
    nodeTimeoutMs: 2000,
    onEvent: (e) => {
      if (e.event === 'phase' && e.phase === 'requested') garbage = true;
    },
  });
  assert.equal(state.result, 'failed');
  assert.equal(state.failure?.code, 'ROLLOUT_NODE');
  assert.match(
    state.failure?.message ?? '',
    /did not come back within --node-timeout 2s: .*last API error: the API server sent a (Node|NodeList) that is not valid/,
  );
  assert.equal(sim.vm('w2').reboots, 0);
});
