// Fleet mode over agents on local sockets: several guestlink agents, the real qemu-ga and one address
// where nothing listens; then 100 real qemu-ga agents. Every VM is answered, at most --concurrency are
// in flight at once, the summary names the failure, and the exit code is 4 when any VM failed.
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { HAVE_QEMU_GA, makeTempDir, type Peer, QEMU_BLOCK, startGuestlink, startQemuGa } from '../peer/harness.js';
import { runCli } from './run-cli.js';

type FleetJson = {
  results: { vm: string; ok: boolean; ms: number; result?: unknown; error?: string; exitCode?: number }[];
  total: number;
  failed: number;
  wallMs: number;
  concurrency: number;
  peakConcurrency: number;
};

describe('fleet mode', () => {
  const peers: Peer[] = [];
  let vms: string[];
  let missing: string;
  before(async () => {
    const dir = makeTempDir();
    const started = await Promise.all(
      [0, 1, 2, 3].map((i) => {
        mkdirSync(path.join(dir, `g${i}`));
        return startGuestlink(path.join(dir, `g${i}`), ['--allow-exec', '/bin/sh']);
      }),
    );
    peers.push(...started);
    if (HAVE_QEMU_GA) {
      mkdirSync(path.join(dir, 'q'));
      peers.push(await startQemuGa(path.join(dir, 'q'), ['-b', QEMU_BLOCK.join(',')]));
    }
    vms = peers.map((p) => `unix:${p.socket}`);
    missing = `unix:${path.join(dir, 'nobody-listens.sock')}`;
  });
  after(() => Promise.all(peers.map((p) => p.stop())));

  // A missing qemu-ga leaves the fleet all guestlink: this skip says so (and fails CI).
  test('a qemu-ga is in the fleet', { skip: HAVE_QEMU_GA ? false : 'qemu-ga is not installed: the fleet is guestlink only' }, () => {
    assert.equal(vms.length, 5);
  });

  test('ping over several agents and one dead address: all answered, the dead one failed, exit 4', async () => {
    const r = await runCli(['ping', ...vms, missing, '-j', '2', '-o', 'json']);
    assert.equal(r.status, 4, r.stderr);
    const j = JSON.parse(r.stdout) as FleetJson;
    assert.equal(j.total, vms.length + 1);
    assert.equal(j.failed, 1);
    assert.deepEqual(
      j.results.map((x) => x.vm),
      [...vms, missing],
      'results in the order given',
    );
    assert.ok(j.results.slice(0, -1).every((x) => x.ok));
    const dead = j.results.at(-1);
    assert.equal(dead?.ok, false);
    assert.equal(dead?.exitCode, 3);
    assert.match(dead?.error ?? '', /cannot connect/);
    assert.ok(j.peakConcurrency <= 2 && j.peakConcurrency >= 1, `peak ${j.peakConcurrency}`);
  });

  test('table output: one row per VM, a summary line; all answering exits 0', async () => {
    const r = await runCli(['osinfo', ...vms]);
    assert.equal(r.status, 0, r.stderr);
    const lines = r.stdout.trim().split('\n');
    assert.match(lines[0] as string, /^VM\s+STATUS\s+TIME\s+RESULT$/);
    assert.equal(lines.length, vms.length + 2);
    assert.match(lines.at(-1) as string, new RegExp(`^${vms.length}/${vms.length} ok in [0-9.]+ s \\(at most 10 at once`));
  });

  test('call over the fleet: the command name follows the VMs', async () => {
    const r = await runCli(['call', ...vms, 'guest-sync', '--arg', 'id=42', '-o', 'yaml']);
    assert.equal(r.status, 0, r.stderr);
    assert.equal((r.stdout.match(/^ {4}result: 42$/gm) ?? []).length, vms.length, r.stdout);
  });

  test('exec over the fleet: output prefixed by VM, a non-zero status counts as a failure', async () => {
    const g = vms.slice(0, 4);
    const r = await runCli(['exec', ...g, '--', '/bin/sh', '-c', 'echo hello']);
    assert.equal(r.status, 0, r.stderr);
    for (const vm of g) assert.ok(r.stdout.includes(`[${vm}] hello\n`));
    const f = await runCli(['exec', ...g, '-o', 'json', '--', '/bin/sh', '-c', 'exit 3']);
    assert.equal(f.status, 4);
    const j = JSON.parse(f.stdout) as FleetJson;
    assert.ok(j.results.every((x) => !x.ok && (x.result as { exitCode: number }).exitCode === 3));
  });

  test('100 qemu-ga agents on local sockets: all answer, at most -j at once', {
    skip: HAVE_QEMU_GA ? false : 'qemu-ga not installed',
    timeout: 120_000,
  }, async () => {
    const dir = makeTempDir();
    const many: Peer[] = [];
    try {
      for (let i = 0; i < 100; i += 10) {
        many.push(
          ...(await Promise.all(
            Array.from({ length: 10 }, (_, k) => {
              const d = path.join(dir, `q${i + k}`);
              mkdirSync(d);
              return startQemuGa(d, ['-b', QEMU_BLOCK.join(',')]);
            }),
          )),
        );
      }
      const addrs = many.map((p) => `unix:${p.socket}`);
      for (const j of [1, 16]) {
        const r = await runCli(['ping', ...addrs, '-j', String(j), '-o', 'json'], { timeoutMs: 100_000 });
        assert.equal(r.status, 0, r.stderr);
        const out = JSON.parse(r.stdout) as FleetJson;
        assert.equal(out.results.filter((x) => x.ok).length, 100);
        assert.ok(out.peakConcurrency <= j, `peak ${out.peakConcurrency} > ${j}`);
        console.log(
          `# fleet ping over 100 qemu-ga agents, -j ${j}: wall ${out.wallMs} ms (CLI process ${Math.round(r.ms)} ms), peak ${out.peakConcurrency} at once`,
        );
      }
    } finally {
      await Promise.all(many.map((p) => p.stop()));
    }
  });
});
