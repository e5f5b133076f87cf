// The bench's side of a conversation with an agent on a unix socket, shared by bench/run.mjs (qemu-ga, the
// checkout and the executable side by side) and bench/ping-path.mjs (two builds of the ping path A/B):
// one line-oriented client, the wait for an agent to answer, percentiles, the CPU pinning of the pings.
import { spawnSync } from 'node:child_process';
import net from 'node:net';
import os from 'node:os';

/** A line-oriented client: one request, wait for one '\n'-terminated reply. */
export class Client {
  constructor(sock) {
    this.sock = sock;
    this.chunks = [];
    this.waiter = null;
    sock.on('data', (c) => {
      this.chunks.push(c);
      if (c.includes(10) && this.waiter) {
        const w = this.waiter;
        this.waiter = null;
        const buf = this.chunks.length === 1 ? c : Buffer.concat(this.chunks);
        this.chunks = [];
        w(buf);
      }
    });
  }
  static connect(p) {
    return new Promise((resolve, reject) => {
      const s = net.createConnection(p);
      s.once('connect', () => resolve(new Client(s)));
      s.once('error', reject);
    });
  }
  request(obj) {
    return new Promise((resolve) => {
      this.waiter = (buf) => {
        const text = buf.toString('latin1');
        const start = text.indexOf('{');
        resolve(JSON.parse(text.slice(start)));
      };
      this.sock.write(`${JSON.stringify(obj)}\n`);
    });
  }
  /** Sends `line` (bytes with their '\n') and resolves with the raw reply, unparsed: the pings. */
  raw(line) {
    return new Promise((resolve) => {
      this.waiter = resolve;
      this.sock.write(line);
    });
  }
  /** guest-file-read without a JSON parse of the payload: the same cheap client work for every agent. */
  read(handle, count) {
    return new Promise((resolve, reject) => {
      this.waiter = (buf) => {
        const key = buf.indexOf('"buf-b64": "');
        if (key < 0) return reject(new Error(buf.subarray(0, 200).toString()));
        const start = key + 12;
        const end = buf.indexOf(34, start);
        const rest = buf.subarray(end).toString('latin1') + buf.subarray(0, key).toString('latin1');
        resolve({ data: Buffer.from(buf.subarray(start, end).toString('latin1'), 'base64'), eof: /"eof": true/.test(rest) });
      };
      this.sock.write(`${JSON.stringify({ execute: 'guest-file-read', arguments: { handle, count } })}\n`);
    });
  }
  close() {
    this.sock.destroy();
  }
}

/** Polls `sock` with guest-sync until the agent answers (or throws after deadlineMs). */
export async function waitReady(sock, deadlineMs = 10000) {
  const end = Date.now() + deadlineMs;
  for (;;) {
    try {
      const c = await Client.connect(sock);
      const r = await c.request({ execute: 'guest-sync', arguments: { id: 1 } });
      c.close();
      if (r.return === 1) return;
    } catch {}
    if (Date.now() > end) throw new Error(`agent on ${sock} did not answer`);
    await new Promise((r) => setTimeout(r, 2));
  }
}

/** The p-th percentile of arr (nearest rank). */
export const pct = (arr, p) => {
  const s = [...arr].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))];
};

const PING = Buffer.from('{"execute":"guest-ping"}\n');

/** `n` guest-ping round trips on `c`, in microseconds (the same bytes every time: the client allocates little). */
export async function pingRound(c, n) {
  const rtts = [];
  for (let i = 0; i < n; i++) {
    const t = process.hrtime.bigint();
    const reply = await c.raw(PING);
    rtts.push(Number(process.hrtime.bigint() - t) / 1e3);
    if (reply.indexOf('"return"') < 0) throw new Error(`guest-ping: unexpected reply ${reply.subarray(0, 200)}`);
  }
  return rtts;
}

/**
 * CPU placement for the pings (taskset from util-linux, all threads): this client on CPU 0, the agents on
 * CPU 1, as a host client and a guest agent sit on different CPUs. Unpinned, where the scheduler happened
 * to put each process decided a round trip more than the agent did (same code, one run 0.9x, the next
 * 1.9x: a wake-up on a halted vCPU of this VM costs 100-300 us). Returns an undo, or undefined (one CPU,
 * or no taskset).
 */
export function pinForPings(agentPids) {
  const cpus = os.cpus().length;
  const taskset = (cpu, pid) => spawnSync('taskset', ['-a', '-cp', cpu, String(pid)], { stdio: 'ignore' }).status === 0;
  // First a no-op (all CPUs) as a probe: taskset is there and this process may set affinities.
  if (cpus < 2 || !taskset(`0-${cpus - 1}`, process.pid)) return undefined;
  if (!taskset('0', process.pid) || !agentPids.every((pid) => taskset('1', pid))) return undefined;
  return () => {
    for (const pid of [process.pid, ...agentPids]) taskset(`0-${cpus - 1}`, pid);
  };
}
