// The process table's caps, with a scripted runner (no real processes): how many are kept, how much
// output and unread input-data they may hold, the errors naming each limit, and that nothing already
// accepted is lost when a request is refused.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { ProcessEvents, ProcessRunner, ProcessSpec } from '../node/interfaces.js';
import { EXEC_MAX_OUTPUT, type ExecRequest, ExecTable, showBytes } from './exec-table.js';

/** Starts nothing: records each spec and hands the test its events. */
class ScriptedRunner implements ProcessRunner {
  readonly started: { spec: ProcessSpec; events: ProcessEvents; pid: number }[] = [];
  private next = 100;
  fail?: NodeJS.ErrnoException;

  async resolve(program: string): Promise<string> {
    return program;
  }

  async start(spec: ProcessSpec, events: ProcessEvents): Promise<number> {
    if (this.fail) throw this.fail;
    const pid = this.next++;
    this.started.push({ spec, events, pid });
    return pid;
  }

  proc(pid: number) {
    const p = this.started.find((s) => s.pid === pid);
    if (!p) throw new Error(`no pid ${pid}`);
    return p.events;
  }
}

const MiB = 1 << 20;
const req = (over: Partial<ExecRequest> = {}): ExecRequest => ({
  path: '/bin/x',
  args: [],
  env: { PATH: '/bin' },
  capture: 'none',
  ...over,
});

function setup(limits = { maxProcesses: 3, maxOutputBytes: 40 * MiB, maxInputBytes: 10 * MiB }) {
  const runner = new ScriptedRunner();
  return { runner, table: new ExecTable(runner, limits) };
}

describe('ExecTable caps', () => {
  test('running + unreported processes: the next is refused naming the limit and its flag; collecting one makes room', async () => {
    const { runner, table } = setup();
    const pids = [await table.start('/bin/x', req()), await table.start('/bin/x', req()), await table.start('/bin/x', req())];
    runner.proc(pids[0] as number).exited({ code: 0, signal: null });
    await assert.rejects(() => table.start('/bin/x', req()), {
      desc: 'guest-exec: 3 processes are running or not yet reported, the most the agent keeps; collect finished ones with guest-exec-status first (the limit is set with --max-exec-processes)',
    });
    assert.equal(runner.started.length, 3, 'the refused one was not started');
    for (const pid of pids.slice(1)) assert.deepEqual(table.status(pid), { exited: false }, 'the accepted ones are still there');
    assert.deepEqual(table.status(pids[0] as number), { exitcode: 0, exited: true });
    await table.start('/bin/x', req());
    assert.equal(table.size, 3);
  });

  test('starts under way count against the process cap', async () => {
    const { table } = setup({ maxProcesses: 2, maxOutputBytes: MiB, maxInputBytes: MiB });
    const results = await Promise.allSettled([1, 2, 3, 4].map(() => table.start('/bin/x', req())));
    assert.deepEqual(
      results.map((r) => r.status),
      ['fulfilled', 'fulfilled', 'rejected', 'rejected'],
    );
  });

  test('output past the shared budget is dropped and flagged; a new capture is refused until it is collected', async () => {
    const { runner, table } = setup({ maxProcesses: 8, maxOutputBytes: 20 * MiB, maxInputBytes: MiB });
    const a = await table.start('/bin/x', req({ capture: 'separated' }));
    const b = await table.start('/bin/x', req({ capture: 'merged' }));
    runner.proc(a).output('stdout', Buffer.alloc(15 * MiB, 1));
    runner.proc(b).output('stderr', Buffer.alloc(8 * MiB, 2));
    assert.deepEqual(table.held, { output: 20 * MiB, input: 0 });
    runner.proc(a).output('stderr', Buffer.alloc(10, 3));
    await assert.rejects(() => table.start('/bin/x', req({ capture: 'separated' })), {
      desc: 'guest-exec: the output kept for processes not yet reported has reached 20 MiB; collect it with guest-exec-status first (the limit is set with --max-exec-output-bytes)',
    });
    await table.start('/bin/x', req({ capture: 'none' })); // nothing to keep: still allowed
    runner.proc(b).exited({ code: 0, signal: null });
    const sb = table.status(b);
    assert.equal(sb['out-data']?.bytes.length, 5 * MiB);
    assert.equal(sb['out-truncated'], true);
    runner.proc(a).exited({ code: 1, signal: null });
    const sa = table.status(a);
    assert.equal(sa['err-data'], undefined);
    assert.equal(sa['err-truncated'], true, 'a stream cut to nothing still says it was cut');
    assert.equal(sa['out-truncated'], false);
    assert.deepEqual(table.held, { output: 0, input: 0 });
  });

  test('each stream still stops at 16 MiB, as in qemu-ga', async () => {
    const { runner, table } = setup({ maxProcesses: 2, maxOutputBytes: 64 * MiB, maxInputBytes: MiB });
    const pid = await table.start('/bin/x', req({ capture: 'stdout' }));
    for (let i = 0; i < 5; i++) runner.proc(pid).output('stdout', Buffer.alloc(4 * MiB));
    assert.equal(table.held.output, EXEC_MAX_OUTPUT);
    runner.proc(pid).exited({ code: null, signal: 9 });
    const st = table.status(pid);
    assert.deepEqual(Object.keys(st), ['out-data', 'signal', 'out-truncated', 'exited']);
    assert.equal(st.signal, 9);
  });

  test('unread input-data counts until the program has taken it; a request that does not fit is refused', async () => {
    const { runner, table } = setup({ maxProcesses: 8, maxOutputBytes: MiB, maxInputBytes: 10 * MiB });
    const a = await table.start('/bin/x', req({ input: Buffer.alloc(6 * MiB) }));
    assert.equal(runner.started[0]?.spec.stdin?.length, 6 * MiB, 'the bytes go to the program');
    await assert.rejects(() => table.start('/bin/x', req({ input: Buffer.alloc(6 * MiB) })), {
      desc: 'guest-exec: input-data of 6 MiB does not fit: 6 MiB of at most 10 MiB is held for programs that have not read theirs yet; try again once they have read it or ended (the limit is set with --max-exec-input-bytes)',
    });
    assert.throws(() => table.admit('none', 11 * MiB), /send less input-data/);
    runner.proc(a).inputReleased();
    runner.proc(a).inputReleased(); // twice (finish, then close) counts once
    assert.equal(table.held.input, 0);
    await table.start('/bin/x', req({ input: Buffer.alloc(6 * MiB) }));
    assert.equal(table.held.input, 6 * MiB);
  });

  test("a program that cannot start gives its input budget back and glib's text", async () => {
    const { runner, table } = setup();
    runner.fail = Object.assign(new Error('ENOENT'), { code: 'ENOENT' });
    await assert.rejects(() => table.start('/bin/x', req({ input: Buffer.alloc(MiB) })), {
      desc: "Guest agent command failed, error was 'Failed to execute child process \u201C/bin/x\u201D (No such file or directory)'",
    });
    assert.deepEqual(table.held, { output: 0, input: 0 });
    assert.equal(table.size, 0);
  });

  test('showBytes', () => {
    assert.equal(showBytes(64 * MiB), '64 MiB');
    assert.equal(showBytes(1536), '1.5 KiB');
    assert.equal(showBytes(100), '100 bytes');
  });
});
