// `guestlink rollout` as a user runs it (a child process) against the simulated cluster: the
// dry run, the JSON event stream, the summary, the documented exit codes, the message and exact
// resume command on a stop, Ctrl-C, and `rollout status`.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { afterEach, beforeEach, describe, test } from 'node:test';
import { CLI, runCli } from '../cli/run-cli.js';
import { SimCluster } from './sim.js';

let sim: SimCluster;
beforeEach(async () => {
  sim = await new SimCluster().start();
  // Down for a few of the CLI's 1 s polls, so each reboot is seen as a real one would be (a real
  // machine is down for far longer).
  await sim.addVm({ node: 'cp1', controlPlane: true, downMs: 2500 });
  await sim.addVm({ node: 'w1', downMs: 2500 });
  sim.addWorkloads(2);
});
afterEach(() => sim.stop());

const env = () => ({ XDG_STATE_HOME: path.join(sim.dir, 'xdg') });
const base = () => ['rollout', 'reboot', ...sim.vms.map((v) => v.address), '--kubeconfig', sim.kubeconfig];

/** Splits a command line printed with POSIX single quotes (what shellQuote writes). */
function shellWords(line: string): string[] {
  const out: string[] = [];
  for (const m of line.matchAll(/'((?:[^']|'\\'')*)'|(\S+)/g))
    out.push(m[1] !== undefined ? m[1].replace(/'\\''/g, "'") : (m[2] as string));
  return out;
}

describe('guestlink rollout', () => {
  test('--dry-run prints the plan and the gates, changes nothing, writes no state', async () => {
    const r = await runCli([...base(), '--dry-run'], { env: env() });
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /BATCH\s+NODE\s+VM\s+ROLE\s+MATCHED BY/);
    assert.match(r.stdout, /1\s+w1\s+unix:\S+w1\.sock\s+worker\s+host-name/);
    assert.match(r.stdout, /2\s+cp1\s+unix:\S+cp1\.sock\s+control-plane\s+host-name/);
    assert.match(r.stdout, /Pre-gate of batch 1 now: would pass/);
    assert.match(r.stdout, /warning: cp1 is the only control-plane node/);
    assert.equal(existsSync(path.join(sim.dir, 'xdg')), false);
    assert.deepEqual(
      sim.vms.map((v) => v.reboots),
      [0, 0],
    );
    const j = await runCli([...base(), '--dry-run', '-o', 'json'], { env: env() });
    const doc = JSON.parse(j.stdout);
    assert.deepEqual(
      doc.plan.batches.map((b: { node: string }[]) => b.map((t) => t.node)),
      [['w1'], ['cp1']],
    );
    assert.equal(doc.preGateNow.ok, true);
    (sim.api.nodes.get('w1') as any).spec.unschedulable = true;
    const blocked = await runCli([...base(), '--dry-run'], { env: env() });
    assert.equal(blocked.status, 10);
    assert.match(blocked.stdout, /would FAIL\n[\s\S]*FAIL\s+no-foreign-cordon: cordoned by someone else: w1/);
  });

  test('a run: JSON events on stdout, exit 0, state under $XDG_STATE_HOME; rollout status reads it', async () => {
    const r = await runCli([...base(), '-o', 'json'], { env: env(), timeoutMs: 120_000 });
    assert.equal(r.status, 0, r.stderr);
    const events = r.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    assert.equal(events[0].event, 'plan');
    assert.ok(events.every((e) => typeof e.at === 'string'));
    const end = events.at(-1);
    assert.equal(end.event, 'end');
    assert.equal(end.result, 'done');
    assert.deepEqual(
      end.nodes.map((n: { node: string; status: string }) => [n.node, n.status]),
      [
        ['w1', 'done'],
        ['cp1', 'done'],
      ],
    );
    const phases = events.filter((e) => e.event === 'phase' && e.node === 'w1').map((e) => e.phase);
    for (const p of ['pre-gate', 'requested', 'uncordoned', 'settling', 'done']) assert.ok(phases.includes(p), `${p} in ${phases}`);
    const dir = path.join(sim.dir, 'xdg', 'guestlink');
    const [file] = readdirSync(dir);
    assert.match(file ?? '', /^rollout-[0-9a-f]{12}\.json$/);
    const st = await runCli(['rollout', 'status'], { env: env() });
    assert.equal(st.status, 0, st.stderr);
    assert.match(st.stdout, /result: done; 2 of 2 nodes done/);
    assert.match(st.stdout, /w1\s+unix:\S+\s+worker\s+done/);
    const sj = await runCli(['rollout', 'status', '--state', path.join(dir, file as string), '-o', 'json'], { env: env() });
    assert.equal(JSON.parse(sj.stdout)[0].result, 'done');
  });

  test('a node that never comes back: exit 11, what happened, the exact resume command, which resumes watching w1 and never reboots it again', async () => {
    sim.vm('w1').o.neverBack = true;
    const state = path.join(sim.dir, 'my state.json');
    const r = await runCli([...base(), '--node-timeout', '3s', '--state', state], { env: env(), timeoutMs: 120_000 });
    assert.equal(r.status, 11, r.stderr);
    assert.match(
      r.stderr,
      /guestlink: rollout stopped: Node w1 did not come back within --node-timeout 3s: it went down and has not come back/,
    );
    assert.match(r.stderr, /Node w1 is left as it is\./);
    assert.match(r.stdout, /w1\s+unix:\S+\s+worker\s+failed/);
    const line = r.stderr.split('\n').find((l) => l.startsWith('  guestlink rollout reboot')) ?? '';
    assert.match(line, /--state '[^']*my state\.json' --resume$/);
    assert.equal(sim.vm('cp1').reboots, 0);
    // The machine is repaired; the printed command resumes and finishes without rebooting w1 again.
    const vm = sim.vm('w1');
    vm.o.neverBack = false;
    sim.cluster.kubelet('w1', { ready: true, bootId: 'repaired-boot' });
    const words = shellWords(line.trim());
    assert.equal(words[0], 'guestlink');
    const again = await runCli(words.slice(1), { env: env(), timeoutMs: 120_000 });
    // w1 came back by hand but nobody uncordoned it (its agent's after-start did not run): still waiting for it.
    assert.equal(again.status, 11, again.stderr);
    assert.match(again.stderr, /Ready, but still cordoned: its agent has not uncordoned it/);
    assert.equal(vm.reboots, 1);
  });

  test('unmatched VMs and bad options: exit 2 before anything starts', async () => {
    sim.vm('w1').o.hostName = 'not-a-node';
    const r = await runCli(base(), { env: env() });
    assert.equal(r.status, 2);
    assert.match(
      r.stderr,
      /cannot match every VM to its Node; nothing was started:\n {2}unix:\S+w1\.sock reports the host name "not-a-node" but no Node has that name/,
    );
    for (const [args, msg] of [
      [['--max-unavailable', '0'], /--max-unavailable: 0 is below the minimum 1/],
      [['--node-timeout', 'soon'], /--node-timeout must be a duration/],
      [['--order', 'random'], /--order: "random" is not one of workers-first, control-planes-first, given/],
      [['--node-map', 'w1'], /--node-map w1: expected VM=NODE/],
    ] as const) {
      const x = await runCli([...base(), ...args], { env: env() });
      assert.equal(x.status, 2, `${args}: ${x.stderr}`);
      assert.match(x.stderr, msg);
    }
    assert.equal((await runCli(['rollout', 'reboot', '--kubeconfig', sim.kubeconfig], { env: env() })).status, 2);
    assert.equal((await runCli(['rollout', 'sideways'], { env: env() })).status, 2);
    assert.equal((await runCli(['ping', 'unix:/x', '--resume'], { env: env() })).status, 2);
    assert.deepEqual(
      sim.vms.map((v) => v.reboots),
      [0, 0],
    );
    const noState = await runCli(['rollout', 'status', '--state', path.join(sim.dir, 'none.json')], { env: env() });
    assert.equal(noState.status, 12);
  });

  test('Ctrl-C: the node in flight finishes, exit 130 with the resume command; --resume does the rest', async () => {
    const state = path.join(sim.dir, 'state.json');
    const child = spawn(process.execPath, [CLI, ...base(), '--state', state, '-o', 'json'], {
      env: { ...process.env, ...env() },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    let signalled = false;
    child.stderr.on('data', (d) => (err += d));
    child.stdout.on('data', (d) => {
      out += d;
      if (!signalled && /"phase":"down"/.test(out)) {
        signalled = true;
        child.kill('SIGINT');
      }
    });
    const code = await new Promise<number | null>((r) => child.on('close', r));
    assert.equal(code, 130, err);
    assert.match(out, /"event":"interrupt","level":1/);
    assert.match(err, /rollout interrupted: interrupted before batch 2/);
    assert.match(err, /--resume/);
    assert.deepEqual(
      sim.vms.map((v) => [v.o.node, v.reboots]),
      [
        ['cp1', 0],
        ['w1', 1],
      ],
    );
    const r = await runCli([...base(), '--state', state, '--resume'], { env: env(), timeoutMs: 120_000 });
    assert.equal(r.status, 0, r.stderr);
    assert.deepEqual(
      sim.vms.map((v) => v.reboots),
      [1, 1],
    );
  });
});
