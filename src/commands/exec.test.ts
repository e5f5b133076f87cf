// guest-exec and guest-exec-status through the handlers with real processes (both of the agent's runners:
// the addon's NativeProcessRunner when built, and ChildProcessRunner): qemu-ga's replies, key order, capture modes, truncation, the fixed environment,
// refusals. The caps are tested with a scripted runner in exec-table.test.ts.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { TEST_EXEC_LIMITS } from '../../test/doubles/handlers.js';
import { nativeSpawn } from '../native/addon.js';
import type { ProcessRunner } from '../node/interfaces.js';
import { ChildProcessRunner } from '../node/linux/process-runner.js';
import { NativeProcessRunner } from '../node/linux/process-runner-native.js';
import { type JsonValue, writeJson } from '../protocol/qga/json-value.js';
import type { CommandContext } from './context.js';
import { makeExecHandlers } from './exec.js';
import { parseExecRule } from './exec-rules.js';
import { EXEC_MAX_OUTPUT, type ExecStatus, ExecTable } from './exec-table.js';

const spawn = nativeSpawn();
const runners: [string, (() => ProcessRunner) | undefined][] = [
  ['ChildProcessRunner', () => new ChildProcessRunner()],
  ['NativeProcessRunner', spawn && (() => new NativeProcessRunner(spawn))],
];

for (const [name, maybeMake] of runners) {
  describe(name, { skip: !maybeMake && 'the native addon is not built (npm run build:native)' }, () => {
    const make = maybeMake ?? (() => new ChildProcessRunner());
    const table = new ExecTable(make(), TEST_EXEC_LIMITS);
    const h = makeExecHandlers(table);
    const ctx = (allowExec: string[], allowExecEnv: string[] = []) =>
      ({
        settings: { allowExec: allowExec.map(parseExecRule), execSearchPath: '/usr/bin:/bin', allowExecEnv },
      }) as unknown as CommandContext;
    const ALLOW = ctx(['/bin/sh', '/bin/echo'], ['FOO', 'PATH']);

    async function exec(args: Record<string, unknown>, c = ALLOW): Promise<number> {
      const r = (await h['guest-exec']?.(args, c)) as { pid: number };
      return r.pid;
    }
    /** guest-exec-status as the client reads it: out-data and err-data as base64 text. */
    type WireStatus = Omit<ExecStatus, 'out-data' | 'err-data'> & { 'out-data'?: string; 'err-data'?: string };

    async function waitStatus(pid: number): Promise<WireStatus> {
      for (let i = 0; i < 500; i++) {
        const st = JSON.parse(writeJson((await h['guest-exec-status']?.({ pid }, ALLOW)) as JsonValue)) as WireStatus;
        if (st.exited) return st;
        await new Promise((r) => setTimeout(r, 10));
      }
      throw new Error('did not exit');
    }
    const b64 = (s: string) => Buffer.from(s).toString('base64');

    test('echo with capture: exit code, out-data, key order as qemu-ga; pid forgotten after', async () => {
      const pid = await exec({ path: '/bin/echo', arg: ['hello', 'qga'], 'capture-output': true });
      const st = await waitStatus(pid);
      assert.deepEqual(Object.keys(st), ['exitcode', 'out-data', 'out-truncated', 'exited']);
      assert.deepEqual(st, { exitcode: 0, 'out-data': 'aGVsbG8gcWdhCg==', 'out-truncated': false, exited: true });
      assert.throws(() => h['guest-exec-status']?.({ pid }, ALLOW), { desc: "Invalid parameter 'pid'" });
    });

    test('stdin from input-data, stderr and exit code, separated', async () => {
      const pid = await exec({
        path: '/bin/sh',
        arg: ['-c', 'cat; echo err >&2; exit 3'],
        'input-data': 'ZnJvbS1zdGRpbgo=',
        'capture-output': true,
      });
      const st = await waitStatus(pid);
      assert.deepEqual(Object.keys(st), ['exitcode', 'err-data', 'out-data', 'err-truncated', 'out-truncated', 'exited']);
      assert.equal(st['out-data'], 'ZnJvbS1zdGRpbgo=');
      assert.equal(st['err-data'], 'ZXJyCg==');
      assert.equal(st.exitcode, 3);
    });

    test('capture modes: none, stdout, stderr, merged', async () => {
      const script = ['-c', 'echo out; echo err >&2'];
      const none = await waitStatus(await exec({ path: '/bin/sh', arg: script, 'capture-output': 'none' }));
      assert.deepEqual(none, { exitcode: 0, exited: true });
      const off = await waitStatus(await exec({ path: '/bin/sh', arg: script, 'capture-output': false }));
      assert.deepEqual(off, { exitcode: 0, exited: true });
      const out = await waitStatus(await exec({ path: '/bin/sh', arg: script, 'capture-output': 'stdout' }));
      assert.deepEqual(out, { exitcode: 0, 'out-data': b64('out\n'), 'out-truncated': false, exited: true });
      const err = await waitStatus(await exec({ path: '/bin/sh', arg: script, 'capture-output': 'stderr' }));
      assert.deepEqual(err, { exitcode: 0, 'err-data': b64('err\n'), 'err-truncated': false, exited: true });
      const merged = await waitStatus(
        await exec({ path: '/bin/sh', arg: ['-c', 'echo out; sleep 0.05; echo err >&2'], 'capture-output': 'merged' }),
      );
      assert.deepEqual(merged, { exitcode: 0, 'out-data': b64('out\nerr\n'), 'out-truncated': false, exited: true });
    });

    test('output beyond 16 MiB is truncated and flagged; the child still runs to the end', async () => {
      const pid = await exec({ path: '/bin/sh', arg: ['-c', 'head -c 17000000 /dev/zero; echo done >&2'], 'capture-output': true });
      const st = await waitStatus(pid);
      assert.equal(st['out-truncated'], true);
      assert.equal(Buffer.from(st['out-data'] ?? '', 'base64').length, EXEC_MAX_OUTPUT);
      assert.equal(st['err-data'], b64('done\n'));
      assert.equal(st['err-truncated'], false);
    });

    test('signals: killed by SIGKILL reports signal 9, no exitcode', async () => {
      assert.deepEqual(await waitStatus(await exec({ path: '/bin/sh', arg: ['-c', 'kill -9 $$'] })), { signal: 9, exited: true });
      const st = await waitStatus(await exec({ path: '/bin/sh', arg: ['-c', 'echo x; kill -TERM $$'], 'capture-output': true }));
      assert.deepEqual(Object.keys(st), ['out-data', 'signal', 'out-truncated', 'exited']);
      assert.equal(st.signal, 15);
    });

    test('running process: exited false until it ends', async () => {
      const pid = await exec({ path: '/bin/sh', arg: ['-c', 'sleep 0.3'] });
      assert.deepEqual(await h['guest-exec-status']?.({ pid }, ALLOW), { exited: false });
      assert.deepEqual(await waitStatus(pid), { exitcode: 0, exited: true });
    });

    test("the environment is PATH and LANG=C plus listed variables, never the agent's own", async () => {
      // sh adds PWD (the agent's working directory) itself; nothing else comes from the agent.
      const printEnv = ['-c', 'env | grep -v ^PWD= | sort'];
      const none = await waitStatus(await exec({ path: '/bin/sh', arg: printEnv, 'capture-output': true }));
      assert.equal(Buffer.from(none['out-data'] ?? '', 'base64').toString(), 'LANG=C\nPATH=/usr/bin:/bin\n');
      const st = await waitStatus(
        await exec({ path: '/bin/sh', arg: printEnv, env: ['FOO=bar', 'PATH=/bin', 'FOO=second'], 'capture-output': true }),
      );
      assert.equal(
        Buffer.from(st['out-data'] ?? '', 'base64').toString(),
        'FOO=bar\nLANG=C\nPATH=/bin\n',
        'listed PATH replaces; first FOO wins',
      );
      const bare = await waitStatus(await exec({ path: 'sh', arg: ['-c', 'echo $0'], env: ['PATH=/bin'], 'capture-output': true }));
      assert.equal(bare['out-data'], b64('sh\n'), 'argv[0] is the name as given');
    });

    test('refusals: not on the list, bare name resolving elsewhere, not found; no shell ever', async () => {
      await assert.rejects(() => exec({ path: '/bin/ls' }), { desc: "guest-exec: '/bin/ls' is not allowed (allow it with --allow-exec)" });
      await assert.rejects(() => exec({ path: 'sh', env: ['PATH=/usr/bin'] }), {
        desc: "guest-exec: 'sh' (/usr/bin/sh) is not allowed (allow it with --allow-exec)",
      });
      await assert.rejects(() => exec({ path: 'no-such-program-x' }), /--allow-exec/);
      await assert.rejects(() => exec({ path: '/bin/echo; rm -rf /', arg: [] }), /is not allowed/);
    });

    test('with "*": nonexistent program gives glib\'s text as qemu-ga sends it', async () => {
      await assert.rejects(() => exec({ path: '/nonexistent/bin' }, ctx(['*'])), {
        desc: "Guest agent command failed, error was 'Failed to execute child process \u201C/nonexistent/bin\u201D (No such file or directory)'",
      });
      await assert.rejects(() => exec({ path: '/tmp' }, ctx(['*'])), { desc: /\u201C\/tmp\u201D \(Permission denied\)/ });
      await assert.rejects(() => exec({ path: '/bin/sh', 'input-data': '!!' }, ctx(['*'])), {
        desc: 'Base64 data contains invalid characters',
      });
    });

    test('environment refusals name the variable, never its value, and start nothing', async () => {
      const before = table.size;
      await assert.rejects(() => exec({ path: '/bin/echo', env: ['LD_PRELOAD=/tmp/evil.so'] }), {
        desc: "guest-exec: environment variable 'LD_PRELOAD' is refused: it changes how programs load code or run, and no setting allows it",
      });
      await assert.rejects(() => exec({ path: '/bin/echo', env: ['FOO=1', 'SECRET_TOKEN=hunter2'] }), {
        desc: "guest-exec: environment variable 'SECRET_TOKEN' is not allowed (allow it with --allow-exec-env)",
      });
      await assert.rejects(() => exec({ path: '/bin/echo', env: ['hunter2'] }), {
        desc: 'guest-exec: env[0] is not NAME=VALUE with a shell variable name',
      });
      assert.equal(table.size, before);
    });

    test('pinned arguments: exactly those, or those first with "..."; the refusal does not repeat them', async () => {
      const pinned = ctx(['/bin/echo a%20b c', '/bin/sh -c ...']);
      const ok = await waitStatus(await exec({ path: '/bin/echo', arg: ['a b', 'c'], 'capture-output': true }, pinned));
      assert.equal(ok['out-data'], b64('a b c\n'));
      await assert.rejects(() => exec({ path: '/bin/echo', arg: ['a b', 'c', '/etc/shadow'] }, pinned), {
        desc: "guest-exec: '/bin/echo' is allowed only with the arguments pinned in --allow-exec",
      });
      await assert.rejects(() => exec({ path: '/bin/echo', arg: ['a b'] }, pinned), /allowed only with the arguments pinned/);
      const more = await waitStatus(await exec({ path: '/bin/sh', arg: ['-c', 'echo $0', 'zero'], 'capture-output': true }, pinned));
      assert.equal(more['out-data'], b64('zero\n'));
      await assert.rejects(() => exec({ path: '/bin/sh', arg: ['-x', '-c', 'true'] }, pinned), /allowed only with the arguments pinned/);
    });
  });
}
