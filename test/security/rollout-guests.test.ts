// Attacks on the rollout from the guests' side: a guest reports its own host name, so it can lie.
// - two VMs claiming one Node: refused before anything starts (nothing rebooted);
// - a liar whose addresses give it away (a cloned VM looks the same): refused;
// - a liar alone that also forges its addresses: matched (a guest cannot be told from its own
//   word), but when its reboot makes another Node (its real one) drain, the rollout stops at once
//   and never reboots anything else; the Node it claimed is never touched;
// - escape sequences, invisible characters and huge names: printed escaped and cut, never raw.
import assert from 'node:assert/strict';
import path from 'node:path';
import { afterEach, beforeEach, test } from 'node:test';
import { runCli } from '../cli/run-cli.js';
import { rollout } from '../rollout/run.js';
import { SimCluster } from '../rollout/sim.js';

let sim: SimCluster;
beforeEach(async () => {
  sim = await new SimCluster().start();
});
afterEach(() => sim.stop());

/** No raw control character (C0 but newline, DEL, C1) and no bidi override in what reached the terminal. */
function assertInert(text: string): void {
  assert.doesNotMatch(text, /[\x00-\x09\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]/, JSON.stringify(text.slice(0, 300)));
}

test('two VMs claiming one Node are refused before anything starts', async () => {
  await sim.addVm({ node: 'w1' });
  await sim.addVm({ node: 'w2', hostName: 'w1', addresses: [sim.addressOf('w1')] });
  await assert.rejects(rollout(sim), (e: Error) => {
    assert.match(e.message, /nothing was started/);
    assert.match(
      e.message,
      /unix:\S+w1\.sock and unix:\S+w2\.sock all claim to be Node w1: refusing \(one of them may be lying about its host name\)/,
    );
    return true;
  });
  assert.deepEqual(
    sim.vms.map((v) => v.reboots),
    [0, 0],
  );
  const r = await runCli(['rollout', 'reboot', ...sim.vms.map((v) => v.address), '--kubeconfig', sim.kubeconfig], {
    env: { XDG_STATE_HOME: path.join(sim.dir, 'xdg') },
  });
  assert.equal(r.status, 2);
  assert.match(r.stderr, /all claim to be Node w1/);
  // --node-map settles it explicitly.
  const ok = await rollout(sim, { nodeMap: new Map([[sim.vm('w2').address, 'w2']]) });
  assert.equal(ok.state.result, 'done', JSON.stringify(ok.state.failure));
});

test("a liar whose addresses are not the claimed Node's is refused", async () => {
  await sim.addVm({ node: 'w1' });
  await sim.addVm({ node: 'w2', hostName: 'w1' });
  await assert.rejects(rollout(sim, { targets: [sim.vm('w2').address] }), (e: Error) => {
    assert.match(
      e.message,
      /says it is Node w1, but none of its addresses \(10\.0\.0\.11\) is one of the Node's \(10\.0\.0\.10\): a cloned VM, or a guest lying about its name\?/,
    );
    return true;
  });
  assert.equal(sim.vm('w2').reboots, 0);
});

test('a liar that forges its addresses too: the rollout stops when its real Node drains, and reboots nothing else', async () => {
  await sim.addVm({ node: 'w1' });
  await sim.addVm({ node: 'w2', hostName: 'w1', addresses: [sim.addressOf('w1')], downMs: 400 });
  await sim.addVm({ node: 'w3' });
  const { state } = await rollout(sim, { targets: [sim.vm('w2').address, sim.vm('w3').address] });
  assert.equal(state.result, 'failed');
  assert.equal(state.failure?.code, 'ROLLOUT_NODE');
  assert.match(
    state.failure?.message ?? '',
    /Node w2, which is not being rebooted, (started a drain for a power action|rebooted) meanwhile: the VM asked to reboot may not be the Node it claimed to be/,
  );
  assert.equal(sim.vm('w1').reboots, 0, 'the Node it claimed to be was never touched');
  assert.equal(sim.vm('w3').reboots, 0, 'nothing after it was started');
  assert.equal(sim.api.nodes.get('w1')?.spec.unschedulable, undefined);
});

test('escape sequences, bidi overrides and huge host names are printed escaped and cut', async () => {
  await sim.addVm({ node: 'w1', hostName: '\x1b]0;owned\x07\x1b[2J\r\nw1' });
  await sim.addVm({ node: 'w2', hostName: `evil\u202egnp.exe${'x'.repeat(200_000)}` });
  await sim.addVm({ node: 'w3', hostName: '\x9b31mW3' });
  const r = await runCli(['rollout', 'reboot', ...sim.vms.map((v) => v.address), '--kubeconfig', sim.kubeconfig], {
    env: { XDG_STATE_HOME: path.join(sim.dir, 'xdg') },
  });
  assert.equal(r.status, 2);
  assertInert(r.stderr);
  assertInert(r.stdout);
  assert.match(r.stderr, /reports the host name "\\x1b]0;owned\\x07\\x1b\[2j\\x0d\\x0aw1", which is not a valid Node name/i);
  assert.match(r.stderr, /evil\\u202egnp\.exex+\.\.\.\(\d+ more\)/);
  assert.ok(r.stderr.length < 10_000, `the message is cut (${r.stderr.length} bytes)`);
  assert.match(r.stderr, /\\x9b31mW3/);
  assert.deepEqual(
    sim.vms.map((v) => v.reboots),
    [0, 0, 0],
  );
});
