// The state file: round trip, atomic replacement, mode 0600, the default path (XDG), and the
// refusals (symlink, damaged, oversized, not a rollout state, another live rollout's).
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import {
  chmodSync,
  chownSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, test } from 'node:test';
import { RolloutError } from './errors.js';
import { defaultStatePath, MAX_STATE_BYTES, ownerAlive, type RolloutState, readState, writeState } from './state.js';

const dir = mkdtempSync(path.join(os.tmpdir(), 'rollout-state-'));
after(() => rmSync(dir, { recursive: true, force: true }));

export function sampleState(o: Partial<RolloutState> = {}): RolloutState {
  const now = new Date().toISOString();
  return {
    version: 1,
    id: 'r-1',
    server: 'https://10.0.0.1:6443',
    context: 'admin@k8s',
    created: now,
    updated: now,
    targets: ['libvirt:k8s-*'],
    order: 'workers-first',
    maxUnavailable: 1,
    result: 'failed',
    pid: 0,
    host: os.hostname(),
    baseline: { unhealthy: ['Deployment default/broken'] },
    nodes: [
      {
        node: 'w1',
        vm: 'libvirt:k8s-w1',
        controlPlane: false,
        batch: 0,
        matchedBy: 'host-name',
        status: 'done',
        bootIdBefore: 'a',
        bootIdAfter: 'b',
      },
      { node: 'cp1', vm: 'libvirt:k8s-cp1', controlPlane: true, batch: 1, matchedBy: 'node-map', status: 'pending' },
    ],
    ...o,
  };
}

const isState = (e: unknown) => e instanceof RolloutError && e.code === 'ROLLOUT_STATE';

test('written atomically with mode 0600 in a 0700 directory, read back equal; no temporary file left', () => {
  const file = path.join(dir, 'sub', 'state.json');
  const s = sampleState();
  writeState(file, s);
  writeState(file, { ...s, result: 'done' });
  assert.equal(readState(file)?.result, 'done');
  assert.deepEqual({ ...readState(file), result: 'failed' }, s);
  assert.equal(statSync(file).mode & 0o777, 0o600);
  assert.equal(statSync(path.dirname(file)).mode & 0o777, 0o700);
  assert.deepEqual(readdirSync(path.dirname(file)), ['state.json']);
  assert.equal(readState(path.join(dir, 'missing.json')), undefined);
});

test('default path: $XDG_STATE_HOME/guestlink, else ~/.local/state/guestlink; one file per API server', () => {
  const a = defaultStatePath({ XDG_STATE_HOME: '/x/state', HOME: '/home/u' }, 'https://a:6443');
  assert.match(a, /^\/x\/state\/guestlink\/rollout-[0-9a-f]{12}\.json$/);
  assert.match(defaultStatePath({ HOME: '/home/u' }, 'https://a:6443'), /^\/home\/u\/\.local\/state\/guestlink\/rollout-/);
  assert.match(defaultStatePath({ XDG_STATE_HOME: 'relative', HOME: '/home/u' }, 'https://a:6443'), /^\/home\/u\/\.local\/state\//);
  assert.notEqual(a, defaultStatePath({ XDG_STATE_HOME: '/x/state' }, 'https://b:6443'));
});

test('a symlink in place of the state file is refused for reading and writing, its target untouched', () => {
  const target = path.join(dir, 'victim');
  writeFileSync(target, 'precious');
  const link = path.join(dir, 'link.json');
  symlinkSync(target, link);
  assert.throws(
    () => readState(link),
    (e: Error) => isState(e) && /symbolic link/.test(e.message),
  );
  assert.throws(
    () => writeState(link, sampleState()),
    (e: Error) => isState(e) && /symbolic link/.test(e.message),
  );
  assert.equal(statSync(target).size, 8);
});

test('damaged, oversized, foreign or wrongly typed files are errors naming the file', () => {
  const cases: [string, string | Buffer][] = [
    ['not-json', '{"version": 1, '],
    ['array', '[]'],
    ['other-version', JSON.stringify({ ...sampleState(), version: 2 })],
    ['extra-key', JSON.stringify({ ...sampleState(), shell: 'rm -rf /' })],
    ['bad-status', JSON.stringify(sampleState({ nodes: [{ ...sampleState().nodes[0], status: 'rebooted-twice' } as never] }))],
    ['bad-batch', JSON.stringify(sampleState({ nodes: [{ ...sampleState().nodes[0], batch: -1 } as never] }))],
    ['bad-time', JSON.stringify({ ...sampleState(), created: 'yesterday' })],
    ['binary', Buffer.from([0xff, 0xfe, 0x00, 0x1b])],
  ];
  for (const [name, content] of cases) {
    const file = path.join(dir, `${name}.json`);
    writeFileSync(file, content);
    assert.throws(
      () => readState(file),
      (e: Error) => isState(e) && e.message.includes(file),
      name,
    );
  }
  const big = path.join(dir, 'big.json');
  writeFileSync(big, Buffer.alloc(MAX_STATE_BYTES + 1, 0x20));
  assert.throws(
    () => readState(big),
    (e: Error) => isState(e) && /more than a rollout state can be/.test(e.message),
  );
  const notAFile = path.join(dir, 'a-directory.json');
  mkdirSync(notAFile);
  assert.throws(
    () => readState(notAFile),
    (e: Error) => isState(e) && /not a regular file/.test(e.message),
  );
});

test('an unreadable state file is an error, not a fresh start', () => {
  const file = path.join(dir, 'unreadable.json');
  writeState(file, sampleState());
  chmodSync(file, 0);
  try {
    if (process.getuid?.() !== 0) {
      assert.throws(() => readState(file), isState);
      return;
    }
    // Root reads anything: the read is made by an unprivileged user (nobody) in a child process.
    chmodSync(dir, 0o755);
    const script = `import(${JSON.stringify(new URL('./state.js', import.meta.url).href)}).then((m) => {
      try { m.readState(${JSON.stringify(file)}); console.log('read'); } catch (e) { console.log(e.code ?? 'other'); }
    });`;
    const r = spawnSync(process.execPath, ['--input-type=module', '-e', script], { uid: 65534, gid: 65534, encoding: 'utf8' });
    assert.equal(r.stdout.trim(), 'ROLLOUT_STATE', r.stderr);
  } finally {
    chmodSync(file, 0o600);
  }
});

test("a state file others could have written is refused: group/world-writable, or another user's", () => {
  const file = path.join(dir, 'shared.json');
  writeState(file, sampleState());
  chmodSync(file, 0o666);
  assert.throws(
    () => readState(file),
    (e: Error) => isState(e) && /can be written by others \(mode 666\)/.test(e.message),
  );
  chmodSync(file, 0o600);
  assert.equal(readState(file)?.id, 'r-1');
  if (process.getuid?.() === 0) {
    chownSync(file, 4242, 4242);
    assert.throws(
      () => readState(file),
      (e: Error) => isState(e) && /belongs to another user \(uid 4242\)/.test(e.message),
    );
  }
});

test('a plan naming something no rollout would plan is refused (a node name or VM address out of shape)', () => {
  for (const [node, vm] of [
    ['../../etc', 'libvirt:x'],
    ['w1', 'tcp:evil:22'],
    ['W1\x1b', 'libvirt:x'],
  ]) {
    const file = path.join(dir, 'odd.json');
    writeFileSync(file, JSON.stringify(sampleState({ nodes: [{ ...sampleState().nodes[0], node, vm } as never] })), { mode: 0o600 });
    assert.throws(
      () => readState(file),
      (e: Error) => isState(e) && /names a node or VM that no rollout would have planned/.test(e.message),
      node,
    );
  }
});

test('ownerAlive: a running state of a live process on this host, not of a dead one or another host', () => {
  assert.equal(ownerAlive(sampleState({ result: 'running', pid: process.ppid })), true);
  assert.equal(ownerAlive(sampleState({ result: 'failed', pid: process.ppid })), false);
  assert.equal(ownerAlive(sampleState({ result: 'running', pid: 2 ** 22 + 12345 })), false);
  assert.equal(ownerAlive(sampleState({ result: 'running', pid: process.ppid, host: 'elsewhere' })), false);
  assert.ok(existsSync(dir));
});
