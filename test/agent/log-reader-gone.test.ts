// The agent's log lines go to fd 2 through its own writer (src/agent/log-writer.ts). When whatever reads
// fd 2 goes away (a supervisor's pipe closed, a `| tee` killed), writes fail with EPIPE: the agent must keep
// serving and keep what is not a log line (the dry-run power record), as it did with pino's sonic-boom.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { AGENT_BIN, makeTempDir } from '../peer/harness.js';
import { exchangeUntilSync, qga } from '../qga-client.js';

describe('the reader of the log goes away', () => {
  const dir = makeTempDir();
  const socket = path.join(dir, 'g.sock');
  const statedir = path.join(dir, 'st');
  const argv = [AGENT_BIN, '-m', 'unix-listen', '-p', socket, '-t', statedir, '--power', 'dry-run', '-c', '/dev/null'];
  const proc = spawn(process.execPath, argv, { stdio: ['ignore', 'ignore', 'pipe'] });
  const exited = new Promise<number | null>((resolve) => proc.once('exit', (code) => resolve(code)));
  after(async () => {
    if (proc.exitCode === null && proc.signalCode === null) proc.kill('SIGKILL');
    await exited;
  });

  it('keeps serving, and keeps the dry-run power record, once writes to fd 2 fail with EPIPE', async () => {
    const stderr = proc.stderr;
    assert.ok(stderr);
    // The ready line is the first line on fd 2: read it, then close the pipe's only read end.
    const first = await new Promise<string>((resolve, reject) => {
      let text = '';
      stderr.on('data', (d: Buffer) => {
        text += d.toString('utf8');
        if (text.includes('\n')) resolve(text);
      });
      proc.once('exit', (code) => reject(new Error(`the agent exited (${code}) before its ready line: ${text}`)));
    });
    assert.match(first, /"msg":"guestlink agent ready"/);
    stderr.destroy();
    // Each of these logs (the power request as a warning, the audit record): the first write meets EPIPE.
    // guest-shutdown has no reply on success (as qemu-ga's): the guest-sync after it says it was handled.
    const shutdowns = ['reboot', 'powerdown'].map((mode) => `{"execute":"guest-shutdown","arguments":{"mode":"${mode}"}}\n`);
    await exchangeUntilSync(socket, shutdowns);
    assert.deepEqual(await qga(socket, 'guest-sync', { id: 42 }), { return: 42 });
    assert.equal(proc.exitCode, null, 'the agent is still running');
    const records = readFileSync(path.join(statedir, 'guestlink-power.jsonl'), 'utf8').trim().split('\n');
    assert.deepEqual(
      records.map((l) => (JSON.parse(l) as { mode?: string }).mode),
      ['reboot', 'powerdown'],
    );
  });
});
