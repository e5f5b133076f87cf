// The process runner guest-exec starts programs with: g_spawn's PATH lookup, exactly the given
// environment, output and the input's release reported, and the exit only once the pipes are closed.
import assert from 'node:assert/strict';
import { spawn as spawnChild } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, describe, test } from 'node:test';
import { nativeSpawn } from '../../native/addon.js';
import type { ProcessExit, ProcessRunner, ProcessSpec } from '../interfaces.js';
import { ChildProcessRunner, resolveProgram } from './process-runner.js';
import { NativeProcessRunner } from './process-runner-native.js';

const dir = mkdtempSync(path.join(os.tmpdir(), 'guestlink-runner-'));
after(() => rmSync(dir, { recursive: true, force: true }));

const spawn = nativeSpawn();

/** Runs node with args to its exit: [exit code, stdout]. */
function spawnNode(args: string[]): Promise<[number | null, string]> {
  return new Promise((resolve, reject) => {
    const p = spawnChild(process.execPath, args, { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    p.stdout.on('data', (d: Buffer) => (out += d));
    p.once('error', reject);
    p.once('close', (code) => resolve([code, out]));
  });
}

/** Both runners run the same tests: the addon's (when built) and node:child_process's. */
const runners: [string, (() => ProcessRunner) | undefined][] = [
  ['ChildProcessRunner', () => new ChildProcessRunner()],
  ['NativeProcessRunner', spawn && (() => new NativeProcessRunner(spawn))],
];

/** Runs a spec to the end with `runner`; what the events said, in order. */
function runWith(runner: ProcessRunner, spec: Partial<ProcessSpec> & { file: string }) {
  const events: string[] = [];
  const out: Record<'stdout' | 'stderr', Buffer[]> = { stdout: [], stderr: [] };
  let pid = 0;
  // The runner unref()s children (they must not keep the agent alive); the test keeps its own loop alive.
  const keepAlive = setInterval(() => {}, 1000);
  const done = new Promise<ProcessExit>((resolve, reject) => {
    runner
      .start(
        { argv0: spec.file, args: [], env: {}, stdout: true, stderr: true, ...spec },
        {
          output: (s, chunk) => out[s].push(chunk),
          inputReleased: () => events.push('input released'),
          exited: (exit) => {
            events.push('exited');
            resolve(exit);
          },
        },
      )
      .then((p) => (pid = p), reject);
  }).finally(() => clearInterval(keepAlive));
  return { done, events, out: (s: 'stdout' | 'stderr') => Buffer.concat(out[s]).toString(), pid: () => pid };
}

describe('resolveProgram', () => {
  test('a name with a slash is used as is; a bare name is looked up in the search path; first executable wins', async () => {
    mkdirSync(path.join(dir, 'a'));
    mkdirSync(path.join(dir, 'b'));
    writeFileSync(path.join(dir, 'a', 'tool'), '#!/bin/sh\n', { mode: 0o644 });
    writeFileSync(path.join(dir, 'b', 'tool'), '#!/bin/sh\n', { mode: 0o755 });
    assert.equal(await resolveProgram('./x/../y', '/bin', '/srv'), '/srv/y');
    assert.equal(await resolveProgram('tool', `${dir}/a:${dir}/b`), path.join(dir, 'b', 'tool'));
    chmodSync(path.join(dir, 'b', 'tool'), 0o644);
    await assert.rejects(
      resolveProgram('tool', `${dir}/a:${dir}/b`),
      { code: 'EACCES' },
      'only files without x bits: EACCES, as g_spawn says',
    );
    await assert.rejects(resolveProgram('no-such-tool', '/bin'), { code: 'ENOENT' });
    await assert.rejects(resolveProgram('', '/bin'), { code: 'ENOENT' });
  });
});

for (const [name, make] of runners) {
  describe(name, { skip: !make && 'the native addon is not built (npm run build:native)' }, () => {
    const run = (spec: Partial<ProcessSpec> & { file: string }) => runWith((make as () => ProcessRunner)(), spec);

    test('exactly the given environment, argv[0] as given, output by stream, exit code', async () => {
      const r = run({
        file: '/bin/sh',
        argv0: 'my-sh',
        args: ['-c', 'echo "$0 $A"; env | grep -v ^PWD= | sort >&2; exit 7'],
        env: { A: '1' },
      });
      assert.deepEqual(await r.done, { code: 7, signal: null });
      assert.equal(r.out('stdout'), 'my-sh 1\n');
      assert.equal(r.out('stderr'), 'A=1\n');
    });

    test('input handed over in full is released before the exit', async () => {
      const r = run({ file: '/bin/cat', stdin: Buffer.alloc(1 << 20, 0x61), stderr: false });
      assert.deepEqual(await r.done, { code: 0, signal: null });
      assert.equal(r.out('stdout').length, 1 << 20);
      assert.deepEqual(r.events, ['input released', 'exited']);
    });

    test('input the program never reads is released when it ends; a signal is reported by number', async () => {
      const r = run({ file: '/bin/sh', args: ['-c', 'kill -9 $$'], stdin: Buffer.alloc(4 << 20), stdout: false, stderr: false });
      assert.deepEqual(await r.done, { code: null, signal: 9 });
      assert.ok(r.events.includes('input released'));
    });

    test('the exit waits for the output pipes: a background child holding stdout keeps it running', async () => {
      const r = run({ file: '/bin/sh', args: ['-c', '(sleep 0.3; echo late) & echo early'] });
      await r.done;
      assert.equal(r.out('stdout'), 'early\nlate\n');
    });

    test('a program that cannot start rejects with its errno', async () => {
      await assert.rejects(run({ file: path.join(dir, 'missing') }).done, { code: 'ENOENT' });
      await assert.rejects(run({ file: dir }).done, { code: 'EACCES' });
    });

    test('a file without #! runs under /bin/sh, as execvp and g_spawn run it', async () => {
      const script = path.join(dir, `plain-script-${name}`);
      writeFileSync(script, 'echo "script $1"\n', { mode: 0o755 });
      const r = run({ file: script, args: ['ran'] });
      assert.deepEqual(await r.done, { code: 0, signal: null });
      assert.equal(r.out('stdout'), 'script ran\n');
    });

    test('every signal at its default and none blocked: SIGPIPE kills a writer whose reader is gone', async () => {
      const r = run({
        file: '/bin/sh',
        args: ['-c', 'grep -E "^Sig(Ign|Blk)" /proc/self/status; (yes; echo "yes: $?" >&2) | head -1'],
      });
      assert.deepEqual(await r.done, { code: 0, signal: null });
      assert.equal(r.out('stdout'), 'SigBlk:\t0000000000000000\nSigIgn:\t0000000000000000\ny\n');
      assert.equal(r.out('stderr'), 'yes: 141\n', 'yes ended by SIGPIPE (128 + 13), not an EPIPE error');
    });

    test('a program that closes its stdout early: exited comes with its exit, not the pipe close', async () => {
      const r = run({ file: '/bin/sh', args: ['-c', 'exec 1>&-; read x; echo "read $x" >&2'], stdin: Buffer.from('it\n') });
      assert.deepEqual(await r.done, { code: 0, signal: null });
      assert.equal(r.out('stderr'), 'read it\n');
      assert.deepEqual(r.events, ['input released', 'exited']);
    });

    test('an ended program is reaped: no zombie left under its pid', async () => {
      const r = run({ file: '/bin/true', stdout: false, stderr: false });
      await r.done;
      assert.ok(r.pid() > 0);
      assert.equal(existsSync(`/proc/${r.pid()}`), false, `pid ${r.pid()} still in the process table`);
    });
  });
}

describe('NativeProcessRunner only', { skip: !spawn && 'the native addon is not built (npm run build:native)' }, () => {
  test("the program gets fds 0, 1 and 2 only: none of the runner's own (test/security/exec-spawn.test.ts: one without O_CLOEXEC)", async () => {
    // ChildProcessRunner passes a non-O_CLOEXEC fd on (libuv closes nothing in the child); g_spawn closes them all.
    const r = runWith(new NativeProcessRunner(spawn as NonNullable<typeof spawn>), {
      file: '/bin/sh',
      args: ['-c', 'ls /proc/$$/fd'],
      stdin: Buffer.from(''),
    });
    await r.done;
    assert.equal(r.out('stdout'), '0\n1\n2\n');
  });

  test('a running program does not keep the event loop alive, and outlives the process that started it', async () => {
    // A Node process that starts `sleep 60` with capture-output and stdin, then has nothing left to do: it must
    // exit on its own (the exit watch and the pipes are unref()-ed), leaving the program running.
    const runner = new URL('./process-runner-native.js', import.meta.url).href;
    const addon = new URL('../../native/addon.js', import.meta.url).href;
    const script = `const { NativeProcessRunner } = await import(${JSON.stringify(runner)});
const { nativeSpawn } = await import(${JSON.stringify(addon)});
const pid = await new NativeProcessRunner(nativeSpawn()).start(
  { file: '/bin/sleep', argv0: 'sleep', args: ['60'], env: {}, stdin: Buffer.from('x'), stdout: true, stderr: true },
  { output() {}, inputReleased() {}, exited() { console.log('exited'); } });
console.log(pid);`;
    const child = spawnNode(['--input-type=module', '-e', script]);
    const [code, out] = await child;
    assert.equal(code, 0);
    const pid = Number(out.trim());
    assert.ok(pid > 0, out);
    try {
      assert.ok(existsSync(`/proc/${pid}`), 'the program still runs after its starter exited');
    } finally {
      process.kill(pid, 'SIGKILL');
    }
  });

  test('without pidfd_open every start goes to the fallback runner', async () => {
    const calls: string[] = [];
    const fallback: ProcessRunner = {
      resolve: async (p) => p,
      start: async (spec) => {
        calls.push(spec.file);
        return 1;
      },
    };
    const noPidfd = { ...(spawn as NonNullable<typeof spawn>), pidfdSupported: () => false };
    const pid = await new NativeProcessRunner(noPidfd, fallback).start(
      { file: '/bin/true', argv0: 'true', args: [], env: {}, stdout: false, stderr: false },
      { output: () => {}, inputReleased: () => {}, exited: () => {} },
    );
    assert.equal(pid, 1);
    assert.deepEqual(calls, ['/bin/true']);
  });
});
