// Attack: SIGUSR1 to the agent. Node's default for it opens V8's inspector on 127.0.0.1:9229: a debugger in
// a root process that any local user can connect to. The executable starts with --disable-sigusr1
// (test/package/sea.test.ts); the checkout and npm installs run on Node 20, which has no such flag, so the
// agent listens for SIGUSR1 itself (agent/main.ts) and Node's handler never runs. The positive control: a
// bare Node process given the same signal does open the port, so the check below can see it.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readdirSync, readlinkSync } from 'node:fs';
import { test } from 'node:test';
import { makeTempDir, startGuestlink } from '../peer/harness.js';
import { pollFor, waitFor } from '../poll.js';
import { tcpSockets } from '../proc-tcp.js';
import { connect } from '../qga-client.js';

/** The TCP ports `pid` listens on: its socket fds' inodes among the kernel's LISTEN (0A) sockets. */
function listeningPorts(pid: number): number[] {
  const inodes = new Set<string>();
  for (const fd of readdirSync(`/proc/${pid}/fd`)) {
    try {
      const m = /^socket:\[(\d+)\]$/.exec(readlinkSync(`/proc/${pid}/fd/${fd}`));
      if (m?.[1]) inodes.add(m[1]);
    } catch {} // closed meanwhile
  }
  return tcpSockets()
    .filter((s) => s.state === '0A' && inodes.has(s.inode))
    .map((s) => s.localPort);
}

test('control: SIGUSR1 opens the inspector port in a plain Node process', { timeout: 30_000 }, async (t) => {
  const script = "process.stdout.write('ready\\n'); setInterval(() => {}, 1000)";
  const child = spawn(process.execPath, ['-e', script], { stdio: ['ignore', 'pipe', 'pipe'] });
  t.after(() => child.kill('SIGKILL'));
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const pid = child.pid as number;
  // Signal once its script runs: Node's handlers are installed before any script.
  await waitFor(() => stdout.includes('ready'), 10_000, 'node -e to start');
  process.kill(pid, 'SIGUSR1');
  assert.ok(await pollFor(() => /Debugger listening/.test(stderr) && listeningPorts(pid).length > 0, 10_000), stderr);
});

test('SIGUSR1 to the agent is logged and ignored: no inspector, the agent serves on', { timeout: 30_000 }, async (t) => {
  const agent = await startGuestlink(makeTempDir('guestlink-sigusr1-'));
  t.after(() => agent.stop());
  const before = listeningPorts(agent.pid);
  process.kill(agent.pid, 'SIGUSR1');
  // The agent's own listener runs (its log line) instead of Node's handler.
  await waitFor(() => agent.stderr().includes('SIGUSR1 ignored'), 10_000, 'the agent to log the ignored SIGUSR1');
  const sock = await connect(agent.socket);
  sock.write('{"execute":"guest-ping"}\n');
  const reply = await new Promise<string>((r) => sock.once('data', (d: Buffer) => r(d.toString())));
  sock.destroy();
  assert.equal(reply.trim(), '{"return": {}}');
  assert.doesNotMatch(agent.stderr(), /Debugger listening/);
  assert.deepEqual(listeningPorts(agent.pid), before);
  assert.ok(agent.alive());
});
