// Differential-test harness: runs the real qemu-ga and guestlink's agent side by side on unix
// sockets in one private temp dir, and talks to them with a raw-bytes client, so that tests can
// send the very same bytes to both and compare the very same reply bytes.
//
// Typical use (node:test):
//
//   const peers = await startPeers({ block: QEMU_BLOCK });      // both, or { qemu: false }
//   after(() => peers.stop());                                  // kills by PID, removes the dir
//   const [q, g] = await peers.both(['{"execute":"guest-ping"}\n'], { replies: 1 });
//   assert.deepEqual(g, q);                                     // Buffers, byte for byte
//
// A test file that needs qemu-ga passes `{ skip: HAVE_QEMU_GA ? false : 'qemu-ga is not installed' }`
// to `describe`/`test`: where /usr/sbin/qemu-ga is missing they are skipped, not failed
// (GUESTLINK_QEMU_GA=/path points the harness at another qemu-ga).
// Other pieces: `startGuestlink`/`startQemuGa` (one peer in a dir of yours), `RawClient` (exact bytes
// both ways, `collect` until N replies or a quiet period), `exchange` (one conversation),
// `exchangeUntilSync` (ends with a guest-sync: no waiting for silence), `resync`, `showBytes`.
// Everything here ends only the processes it started, by their PID (also if the test process
// exits without stopping them), and removes the temp dirs it made.
import { type ChildProcess, type StdioOptions, spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { MACHINE_CHANGING_COMMANDS } from '../../src/protocol/qga/commands.js';
import { type Chunk, type CollectOptions, exchange, RawClient } from '../qga-client.js';

// The raw client lives in the one QGA test client (test/qga-client.ts); re-exported for the peer tests.
export {
  type Chunk,
  type CollectOptions,
  countReplies,
  exchange,
  exchangeUntilSync,
  RawClient,
  showBytes,
  splitReplies,
} from '../qga-client.js';

/** The repository root (this file runs from dist/test/peer/). */
export const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
/** guestlink's agent entry point. */
export const AGENT_BIN = path.join(REPO_ROOT, 'bin/guestlink-agent.js');

/**
 * The single executable (scripts/build-sea.mjs) the agent runs as instead of the checkout, when
 * GUESTLINK_TEST_EXECUTABLE names one: test/executable/ runs the differential, soak and VM suites again
 * that way. Read at every start (those files set it before they import the suite), not at load.
 */
export function agentExecutable(): string | undefined {
  return process.env.GUESTLINK_TEST_EXECUTABLE || undefined;
}

/** How to start the agent with `args`: the checkout's bin/guestlink-agent.js on this Node, or `EXE agent ...`. */
export function agentCommand(args: readonly string[]): { file: string; argv: string[] } {
  const exe = agentExecutable();
  return exe ? { file: exe, argv: ['agent', ...args] } : { file: process.execPath, argv: [AGENT_BIN, ...args] };
}
/** The qemu-ga under comparison (Debian's qemu-guest-agent 7.2); a test knob may point elsewhere. */
export const QEMU_GA = process.env.GUESTLINK_QEMU_GA ?? '/usr/sbin/qemu-ga';
/** Whether the differential half of the tests can run here. */
export const HAVE_QEMU_GA = existsSync(QEMU_GA);

/**
 * Commands blocked on both peers by default: everything the table marks `changesMachine` (power,
 * freeze, clock, passwords, vCPUs, memory, ssh keys, fstrim), so a new such command can never run
 * against this machine in the peer tests.
 */
export const QEMU_BLOCK: readonly string[] = MACHINE_CHANGING_COMMANDS;

/** One running agent process. */
export interface Peer {
  readonly name: 'qemu-ga' | 'guestlink';
  /** The unix socket it listens on. */
  readonly socket: string;
  readonly proc: ChildProcess;
  readonly pid: number;
  /** Everything the process wrote to stderr so far (diagnostics for failed assertions). */
  stderr(): string;
  /** Raw exchange with this peer on a fresh connection (see `exchange`). */
  send(chunks: Chunk[], opts?: CollectOptions): Promise<Buffer>;
  /** Resident set size in KiB, from /proc (undefined once the process is gone). */
  rssKiB(): number | undefined;
  /** True while the process runs. */
  alive(): boolean;
  /** SIGTERM by PID, SIGKILL after 2 s; resolves when it has exited. */
  stop(): Promise<void>;
}

export interface StartOptions {
  /** Start qemu-ga (default: when installed). */
  qemu?: boolean;
  /** Start guestlink (default: true). */
  agent?: boolean;
  /** -b for both (default QEMU_BLOCK). */
  block?: readonly string[];
  /** Extra arguments for guestlink only (e.g. ['--max-request-bytes', '4096'], ['-a', 'guest-ping']). */
  agentArgs?: readonly string[];
  /** Extra arguments for qemu-ga only. */
  qemuArgs?: readonly string[];
  /** Extra environment for guestlink (GUESTLINK_*). */
  agentEnv?: Readonly<Record<string, string>>;
}

/** Both peers in one temp dir; `stop()` ends them and removes the dir. */
export interface Peers {
  readonly dir: string;
  readonly qemu?: Peer;
  readonly agent?: Peer;
  /**
   * The same bytes to both (each on a fresh connection, in parallel): [qemu-ga reply, guestlink reply].
   * qemu-ga's parser is resynchronised first (see `resync`), so earlier garbage cannot leak in.
   */
  both(chunks: Chunk[], opts?: CollectOptions): Promise<[Buffer, Buffer]>;
  stop(): Promise<void>;
}

// Safety net: if the test process ends without stopping its peers (a crash, an uncaught error),
// the children it started are killed by PID and its temp dirs removed on the way out.
const livePids = new Set<number>();
const liveDirs = new Set<string>();
process.once('exit', () => {
  for (const pid of livePids) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {}
  }
  for (const dir of liveDirs) rmSync(dir, { recursive: true, force: true });
});

/** Makes a private temp dir for one test file (removed at exit at the latest). */
export function makeTempDir(prefix = 'guestlink-peer-'): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), prefix));
  liveDirs.add(dir);
  return dir;
}

/** Starts qemu-ga (when wanted and installed) and guestlink, and waits until both accept connections. */
export async function startPeers(opts: StartOptions = {}): Promise<Peers> {
  const dir = makeTempDir();
  const block = opts.block ?? QEMU_BLOCK;
  const started: Peer[] = [];
  const stop = async () => {
    await Promise.all(started.map((p) => p.stop()));
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    let qemu: Peer | undefined;
    let agent: Peer | undefined;
    if (opts.qemu ?? HAVE_QEMU_GA) {
      qemu = await startQemuGa(dir, [...(block.length ? ['-b', block.join(',')] : []), ...(opts.qemuArgs ?? [])]);
      started.push(qemu);
    }
    if (opts.agent ?? true) {
      agent = await startGuestlink(dir, [...(block.length ? ['-b', block.join(',')] : []), ...(opts.agentArgs ?? [])], opts.agentEnv);
      started.push(agent);
    }
    const peers: Peers = {
      dir,
      ...(qemu ? { qemu } : {}),
      ...(agent ? { agent } : {}),
      both: async (chunks, o) => {
        if (!qemu || !agent) throw new Error('both() needs qemu-ga and guestlink running');
        // qemu-ga keeps a half-parsed request across connections: start it from a clean parser.
        await resync(qemu);
        return Promise.all([qemu.send(chunks, o), agent.send(chunks, o)]);
      },
      stop,
    };
    return peers;
  } catch (err) {
    await stop();
    throw err;
  }
}

/** Starts the real qemu-ga on `<dir>/q.sock` with its state and pid file in `dir`; args are appended. */
export async function startQemuGa(dir: string, args: readonly string[] = []): Promise<Peer> {
  const socket = path.join(dir, 'q.sock');
  const statedir = path.join(dir, 'qst');
  mkdirSync(statedir, { recursive: true });
  // qemu-ga 7.2 reads /etc/qemu/qemu-ga.conf unless QGA_CONF names another (regular) file; it has no -c.
  const conf = path.join(dir, 'q.conf');
  if (!existsSync(conf)) writeFileSync(conf, '');
  const argv = ['-m', 'unix-listen', '-p', socket, '-t', statedir, '-f', path.join(dir, 'q.pid'), ...args];
  return launch('qemu-ga', QEMU_GA, argv, socket, { QGA_CONF: conf });
}

/**
 * The agent arguments every in-process or one-shot test starts from: a unix socket `<dir>/<name>.sock`,
 * state in `dir`, dry-run power, no config file, a log file `<dir>/<name>.log`; `extra` is appended.
 */
export function testAgentArgs(dir: string, name: string, extra: readonly string[] = []): string[] {
  const base = ['-m', 'unix-listen', '-p', path.join(dir, `${name}.sock`), '-t', dir, '--power', 'dry-run', '-c', '/dev/null'];
  return [...base, '-l', path.join(dir, `${name}.log`), ...extra];
}

/** Starts guestlink's agent on `<dir>/g.sock` (dry-run power, no config file); args are appended. */
export async function startGuestlink(
  dir: string,
  args: readonly string[] = [],
  env: Readonly<Record<string, string>> = {},
  /** An fd the agent inherits under the number `as`, open without O_CLOEXEC there (test/security/exec-spawn.test.ts). */
  inherit?: { fd: number; as: number },
): Promise<Peer> {
  const socket = path.join(dir, 'g.sock');
  const statedir = path.join(dir, 'gst');
  mkdirSync(statedir, { recursive: true });
  const { file, argv } = agentCommand([
    '-m',
    'unix-listen',
    '-p',
    socket,
    '-t',
    statedir,
    '--power',
    'dry-run',
    '-c',
    '/dev/null',
    ...args,
  ]);
  return launch('guestlink', file, argv, socket, env, inherit);
}

async function launch(
  name: Peer['name'],
  file: string,
  argv: string[],
  socket: string,
  env: Readonly<Record<string, string>>,
  inherit?: { fd: number; as: number },
): Promise<Peer> {
  // A clean environment: no GUESTLINK_* leaking in from the developer's shell.
  const baseEnv: Record<string, string> = {};
  for (const [k, v] of Object.entries(process.env)) if (v !== undefined && !k.startsWith('GUESTLINK_')) baseEnv[k] = v;
  const stdio: StdioOptions = ['ignore', 'ignore', 'pipe'];
  if (inherit) stdio[inherit.as] = inherit.fd;
  const proc = spawn(file, argv, { stdio: Array.from(stdio, (s) => s ?? 'ignore'), env: { ...baseEnv, ...env } });
  let err = '';
  proc.stderr?.on('data', (d: Buffer) => {
    if (err.length < 1 << 20) err += d.toString('utf8');
  });
  let exited = false;
  const exit = new Promise<void>((resolve) => {
    proc.once('exit', () => {
      exited = true;
      if (proc.pid !== undefined) livePids.delete(proc.pid);
      resolve();
    });
    proc.once('error', () => {
      exited = true;
      resolve();
    });
  });
  const pid = proc.pid;
  if (pid === undefined) throw new Error(`${name}: could not start ${file}`);
  livePids.add(pid);
  const peer: Peer = {
    name,
    socket,
    proc,
    pid,
    stderr: () => err,
    send: (chunks, opts) => exchange(socket, chunks, opts),
    rssKiB: () => rssKiB(pid, exited),
    alive: () => !exited,
    stop: async () => {
      if (exited) return;
      process.kill(pid, 'SIGTERM');
      const timer = setTimeout(() => {
        if (!exited) process.kill(pid, 'SIGKILL');
      }, 2000);
      await exit;
      clearTimeout(timer);
    },
  };
  const deadline = Date.now() + 15_000;
  for (;;) {
    if (exited) throw new Error(`${name} exited before listening: ${err}`);
    if (existsSync(socket) && (await canConnect(socket))) return peer;
    if (Date.now() > deadline) {
      await peer.stop();
      throw new Error(`${name} did not listen on ${socket} within 15 s: ${err}`);
    }
    await sleep(25);
  }
}

/** utime + stime of `pid`, all its threads, in clock ticks (/proc/PID/stat fields 14 and 15; 100 per second). */
export function cpuTicks(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return Number(f[11]) + Number(f[12]);
}

function rssKiB(pid: number, exited: boolean): number | undefined {
  if (exited) return undefined;
  try {
    const text = readFileSync(`/proc/${pid}/status`, 'utf8');
    const m = /VmRSS:\s+(\d+)\s+kB/.exec(text);
    return m ? Number(m[1]) : undefined;
  } catch {
    return undefined;
  }
}

function canConnect(socket: string): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.connect(socket);
    s.once('connect', () => {
      s.destroy();
      resolve(true);
    });
    s.once('error', () => resolve(false));
  });
}

/**
 * Brings a peer's parser back to a clean start: 0xFF (which ends any half-parsed request or string),
 * a newline, then a guest-sync whose reply is awaited; everything read is discarded. Needed for qemu-ga,
 * whose parser state outlives connections; harmless for guestlink.
 */
export async function resync(peer: Peer): Promise<void> {
  const id = 1 + Math.floor(Math.random() * 1e9);
  const c = await RawClient.connect(peer.socket);
  try {
    await c.write(Buffer.concat([Buffer.from([0xff]), Buffer.from(`\n{"execute":"guest-sync","arguments":{"id":${id}}}\n`)]));
    const want = `{"return": ${id}}\n`;
    let got = '';
    const deadline = Date.now() + 5000;
    while (!got.includes(want)) {
      if (Date.now() > deadline || c.closedByPeer) throw new Error(`${peer.name}: resync failed, got ${JSON.stringify(got)}`);
      got += (await c.collect({ replies: 1, quietMs: 1000, timeoutMs: 2000 })).toString('latin1');
    }
  } finally {
    await c.close();
  }
}

/** Resolves after `ms` milliseconds. */
export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
