// The progress view: on a terminal one line per node redrawn in place (cursor up, clear line),
// with phase, elapsed time and what it waits for; elsewhere one plain line per change; names from
// guests escaped; nothing at all when disabled.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Board } from './board.js';

function stream(tty: boolean) {
  const out: string[] = [];
  return { out, s: { isTTY: tty, columns: 120, write: (c: string) => out.push(c) } as unknown as NodeJS.WriteStream };
}

const plan = {
  event: 'plan' as const,
  rollout: 'r',
  server: 's',
  context: 'c',
  state: 'f',
  resumed: false,
  warnings: [],
  batches: [
    [{ node: 'w1', vm: 'libvirt:w1', controlPlane: false, matchedBy: 'host-name', status: 'pending' as const }],
    [{ node: 'cp\x1b[2J', vm: 'libvirt:cp', controlPlane: true, matchedBy: 'host-name', status: 'pending' as const }],
  ],
};

test('terminal: one line per node, redrawn in place, escaped', () => {
  const { out, s } = stream(true);
  const b = new Board(s, true);
  b.show(plan);
  b.show({ event: 'phase', node: 'w1', vm: 'libvirt:w1', phase: 'booted', elapsedMs: 42_000, detail: 'new boot id x, not Ready yet' });
  b.show({
    event: 'gate',
    gate: 'post',
    batch: 0,
    ok: false,
    waiting: true,
    checks: [{ name: 'workloads-ready', ok: false, detail: 'not ready: Deployment default/web 1/2' }],
  });
  b.stop();
  const last = out.at(-1) ?? '';
  assert.match(last, /^\x1b\[2A/, 'moves up over the two lines it drew before (the gate line is new)');
  const lines = last.split('\n').filter(Boolean);
  assert.equal(lines.length, 3);
  assert.match(lines[0] ?? '', /w1\s+worker\s+booted\s+42s\s+new boot id x, not Ready yet/);
  assert.match(lines[1] ?? '', /cp\\x1b\[2J\s+control-plane\s+pending/);
  assert.match(lines[2] ?? '', /post-gate batch 1: waiting: workloads-ready: not ready: Deployment default\/web 1\/2/);
  assert.doesNotMatch(out.join(''), /\x1b\[2J/);
});

test('not a terminal: one plain line per change; disabled: nothing', () => {
  const { out, s } = stream(false);
  const b = new Board(s, true);
  b.show(plan);
  b.show({ event: 'phase', node: 'w1', vm: 'libvirt:w1', phase: 'cordoned', elapsedMs: 3000 });
  b.show({ event: 'gate', gate: 'pre', batch: 1, ok: true, waiting: false, checks: [] });
  assert.deepEqual(out, ['w1: cordoned (3s)\n', 'pre-gate batch 2: ok\n']);
  const quiet = stream(true);
  const q = new Board(quiet.s, false);
  q.show(plan);
  q.show({ event: 'phase', node: 'w1', vm: 'libvirt:w1', phase: 'cordoned', elapsedMs: 3000 });
  assert.deepEqual(quiet.out, []);
});
