import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { CommandContext } from './context.js';
import { makeExecHandlers } from './exec.js';
import { EXEC_MAX_OUTPUT, type ExecStatus, ExecTable } from './exec-table.js';

const table = new ExecTable();
const h = makeExecHandlers(table);
const ctx = (allowExec: string[]) => ({ settings: { allowExec, execSearchPath: '/usr/bin:/bin' } }) as unknown as CommandContext;
const ALLOW = ctx(['/bin/sh', '/bin/echo']);

async function exec(args: Record<string, unknown>, c = ALLOW): Promise<number> {
  const r = (await h['guest-exec']?.(args, c)) as { pid: number };
  return r.pid;
}
async function waitStatus(pid: number): Promise<ExecStatus> {
  for (let i = 0; i < 500; i++) {
    const st = (await h['guest-exec-status']?.({ pid }, ALLOW)) as unknown as ExecStatus;
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

test('env replaces the environment; PATH lookup of a bare name uses the env PATH', async () => {
  const st = await waitStatus(
    await exec({ path: '/bin/sh', arg: ['-c', 'env | sort'], env: ['FOO=bar', 'PATH=/bin'], 'capture-output': true }),
  );
  assert.equal(
    Buffer.from(st['out-data'] ?? '', 'base64').toString(),
    'FOO=bar\nPATH=/bin\nPWD=/work/main\n'.replace('/work/main', process.cwd()),
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
