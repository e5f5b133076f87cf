// Start-up and idle memory of whole processes, for bench/run.mjs: qemu-ga, the checkout and the single
// executable started in turn (A B C A B C ...) so a burst of load from elsewhere on this shared machine
// falls on all of them, and Node's own floor (the executable's Node running an idle script) measured in
// the same run, since the memory target is "Node's floor + 6 MB", not an absolute figure.
//
// What is measured, per start: wall time from spawn to the first guest-sync reply (a client polling the
// socket), the process's CPU time (all threads, /proc/PID/task/*/schedstat) at that moment (far less sensitive to other
// load than the wall time), and 500 ms later its VmRSS and RssAnon (/proc/PID/status).
//
// The executable is measured as a copy written in 64 KiB writes, as an installer or an image extractor
// writes it, not as the file the build just wrote. Measured here (kernel 6.18, ext4): a file written in
// one large write (postject writes the whole 108 MB at once) sits in the page cache in large folios, and
// a fault on its text maps the whole folio, so the same binary's idle RSS read +17 MB (72 vs 55 MB; an
// empty SEA 58 vs 40 MB, plain `node -e` 71 vs 43 MB when its binary was rewritten that way). After the
// pages are dropped (posix_fadvise DONTNEED) and read back by readahead the figure is the low one again.
// RssAnon (the process's own memory) is the same either way and is printed beside it.
import { spawn } from 'node:child_process';
import { closeSync, copyFileSync, existsSync, mkdirSync, openSync, readdirSync, readFileSync, readSync, rmSync, writeSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';

function pct(arr, p) {
  const s = [...arr].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))];
}

/** median, min and max of `arr`. */
export function spread(arr) {
  return { median: pct(arr, 50), min: Math.min(...arr), max: Math.max(...arr) };
}

/** A memory field of /proc/PID/status (VmRSS, VmHWM, RssAnon...) in MB; NaN when it is not there. */
export function statusMb(pid, key) {
  const m = new RegExp(`^${key}:\\s+(\\d+) kB`, 'm').exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) / 1024 : Number.NaN;
}

/** CPU time of all the process's threads so far, ms, from schedstat (nanoseconds; stat's ticks are 10 ms). */
function cpuMs(pid) {
  let ns = 0;
  for (const tid of readdirSync(`/proc/${pid}/task`)) {
    try {
      ns += Number(readFileSync(`/proc/${pid}/task/${tid}/schedstat`, 'utf8').split(' ')[0]);
    } catch {} // a thread that ended meanwhile
  }
  return ns / 1e6;
}

/** The process's threads (V8's platform workers, libuv's pool once started, the main thread...). */
function threadCount(pid) {
  const m = /^Threads:\s+(\d+)/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) : Number.NaN;
}

/** One guest-sync on a fresh connection: true when the right reply came (false on any error). */
function syncOnce(sock, id) {
  return new Promise((resolve) => {
    const c = net.createConnection(sock);
    let buf = '';
    c.once('error', () => resolve(false));
    c.once('connect', () => c.write(`{"execute":"guest-sync","arguments":{"id":${id}}}\n`));
    c.on('data', (d) => {
      buf += d.toString('latin1');
      if (!buf.includes('\n')) return;
      c.destroy();
      resolve(/"return":\s*\d+/.test(buf) && JSON.parse(buf.slice(buf.indexOf('{'))).return === id);
    });
  });
}

const exited = (child) => new Promise((r) => (child.exitCode !== null || child.signalCode !== null ? r() : child.once('exit', r)));

/**
 * Starts `cmd args` (SOCK and STATE replaced by a socket and a fresh state directory in `dir`, named by `tag`)
 * and polls the socket until it answers guest-sync. Returns the child, its socket and the ms from spawn to
 * that answer; when it exits or does not answer within deadlineMs, kills it and throws.
 */
async function startAnswered(cmd, args, dir, tag, deadlineMs = 20_000) {
  const sock = path.join(dir, `${tag}.sock`);
  const state = path.join(dir, `${tag}-state`);
  rmSync(state, { recursive: true, force: true });
  mkdirSync(state, { recursive: true });
  const t0 = process.hrtime.bigint();
  const child = spawn(
    cmd,
    args.map((a) => (a === 'SOCK' ? sock : a === 'STATE' ? state : a)),
    { stdio: 'ignore' },
  );
  try {
    const end = Date.now() + deadlineMs;
    while (!(await syncOnce(sock, 7))) {
      if (child.exitCode !== null || Date.now() > end) throw new Error(`${cmd} on ${sock} did not answer guest-sync`);
      await new Promise((r) => setImmediate(r));
    }
  } catch (err) {
    child.kill('SIGKILL');
    await exited(child);
    rmSync(sock, { force: true });
    throw err;
  }
  return { child, sock, startMs: Number(process.hrtime.bigint() - t0) / 1e6 };
}

/** One start (startAnswered): its CPU time at the answer, then memory and threads 500 ms later; kills it. */
async function oneStart(cmd, args, dir, tag, deadlineMs) {
  const { child, sock, startMs } = await startAnswered(cmd, args, dir, tag, deadlineMs);
  try {
    const cpu = cpuMs(child.pid);
    await new Promise((r) => setTimeout(r, 500));
    return {
      startMs,
      cpuMs: cpu,
      rssMb: statusMb(child.pid, 'VmRSS'),
      anonMb: statusMb(child.pid, 'RssAnon'),
      threads: threadCount(child.pid),
    };
  } finally {
    child.kill('SIGKILL');
    await exited(child);
    rmSync(sock, { force: true });
  }
}

/**
 * `starts` starts of each of `agents` ({name: [cmd, args with SOCK and STATE]}), in turn; returns per name
 * the spread of start ms, CPU ms, VmRSS MB, RssAnon MB and the thread count (idle, 500 ms after the reply).
 */
export async function measureStarts(agents, starts, dir) {
  const samples = Object.fromEntries(Object.keys(agents).map((n) => [n, []]));
  for (let i = 0; i < starts; i++) {
    const names = Object.keys(agents);
    for (const name of i % 2 === 0 ? names : names.reverse()) {
      const [cmd, args] = agents[name];
      samples[name].push(await oneStart(cmd, args, dir, `${name}-start${i}`));
    }
  }
  return Object.fromEntries(
    Object.entries(samples).map(([name, s]) => [
      name,
      {
        startMs: spread(s.map((x) => x.startMs)),
        cpuMs: spread(s.map((x) => x.cpuMs)),
        rssMb: spread(s.map((x) => x.rssMb)),
        anonMb: spread(s.map((x) => x.anonMb)),
        threads: spread(s.map((x) => x.threads)),
      },
    ]),
  );
}

/**
 * Memory once idle for good: each of `agents` started once, all at the same time beside `nodeBin` idling on a
 * timer (Node's floor), sampled `settleMs` after each answered. V8's memory reducer runs 8 s after start
 * (--gc-memory-reducer-start-delay-ms) in a process that has collected garbage: a full GC that gives the
 * young generation back, measured here at -1.5 MB RssAnon for the executable between 8 and 9 s, and
 * nothing for `node -e`, which has not collected. An agent idles for days, so this is its idle figure; the
 * 500 ms one after start (measureStarts) still holds the start's young generation. Returns per name (and
 * "nodeFloor") VmRSS and RssAnon in MB.
 */
export async function settledIdle(agents, nodeBin, dir, settleMs = 12_000) {
  const children = [];
  try {
    const sampled = Object.entries(agents).map(async ([name, [cmd, args]]) => {
      const { child } = await startAnswered(cmd, args, dir, `${name}-settle`);
      children.push(child);
      await new Promise((r) => setTimeout(r, settleMs));
      return [name, { rssMb: statusMb(child.pid, 'VmRSS'), anonMb: statusMb(child.pid, 'RssAnon') }];
    });
    const floor = spawn(nodeBin, ['-e', 'setInterval(() => {}, 1000)'], { stdio: 'ignore' });
    children.push(floor);
    const floorSample = new Promise((r) => setTimeout(r, settleMs)).then(() => [
      'nodeFloor',
      { rssMb: statusMb(floor.pid, 'VmRSS'), anonMb: statusMb(floor.pid, 'RssAnon') },
    ]);
    // Every start settles before the cleanup below, so no agent is still starting when the others are killed.
    const settled = await Promise.allSettled([...sampled, floorSample]);
    const failed = settled.find((r) => r.status === 'rejected');
    if (failed) throw failed.reason;
    return Object.fromEntries(settled.map((r) => r.value));
  } finally {
    for (const c of children) {
      c.kill('SIGKILL');
      await exited(c);
    }
  }
}

/** Node's own floor: `node` idling on a timer, `runs` times; the spread of VmRSS and RssAnon (MB). */
export async function nodeFloor(nodeBin, runs) {
  const rss = [];
  const anon = [];
  for (let i = 0; i < runs; i++) {
    const child = spawn(nodeBin, ['-e', 'setInterval(() => {}, 1000)'], { stdio: 'ignore' });
    await new Promise((r) => setTimeout(r, 500));
    rss.push(statusMb(child.pid, 'VmRSS'));
    anon.push(statusMb(child.pid, 'RssAnon'));
    child.kill('SIGKILL');
    await exited(child);
  }
  return { rssMb: spread(rss), anonMb: spread(anon) };
}

/**
 * A copy of the executable (and the addon beside it) in `dir`, written in 64 KiB writes: see the comment
 * at the top for why the bench measures this copy and not the file the build wrote.
 */
export function deployedCopy(exe, dir) {
  mkdirSync(dir, { recursive: true });
  const dest = path.join(dir, path.basename(exe));
  const chunk = Buffer.allocUnsafe(64 << 10);
  const from = openSync(exe, 'r');
  const to = openSync(dest, 'w', 0o755);
  try {
    for (let n = readSync(from, chunk); n > 0; n = readSync(from, chunk)) writeSync(to, chunk, 0, n);
  } finally {
    closeSync(from);
    closeSync(to);
  }
  const addon = path.join(path.dirname(exe), 'guestlink.node');
  if (existsSync(addon)) copyFileSync(addon, path.join(dir, 'guestlink.node'));
  return dest;
}

/** The agent's arguments for a start on a unix socket (SOCK and STATE are replaced per start). */
export const START_ARGS = [
  'agent',
  '-m',
  'unix-listen',
  '-p',
  'SOCK',
  '-t',
  'STATE',
  '-c',
  '/dev/null',
  '--power',
  'dry-run',
  '--allow-exec',
  '/bin/true',
];

// A paired comparison of builds of the executable, for a change to the start-up path (docs/benchmarks.md):
//   node bench/startup.mjs --ab OLD_EXE NEW_EXE [MORE_EXE ...] [--starts N]
// Each is measured as an installed copy, all started in turn (A B C, C B A, ...), N starts each (default
// 30), named by its directory; Node's floor beside them. Prints one JSON object: per build the spreads of
// start ms, CPU ms at the first reply, VmRSS and RssAnon (MB), threads, and the load average at the end.
if (process.argv[1] && path.resolve(process.argv[1]) === new URL(import.meta.url).pathname && process.argv[2] === '--ab') {
  const rest = process.argv.slice(3);
  const n = rest.indexOf('--starts');
  const starts = n >= 0 ? Number(rest[n + 1]) : 30;
  const exes = n >= 0 ? [...rest.slice(0, n), ...rest.slice(n + 2)] : rest;
  if (exes.length < 2 || !(starts > 0)) {
    process.stderr.write('usage: node bench/startup.mjs --ab OLD_EXE NEW_EXE [MORE_EXE ...] [--starts N]\n');
    process.exit(2);
  }
  const { mkdtempSync } = await import('node:fs');
  const os = await import('node:os');
  const dir = mkdtempSync(path.join(os.tmpdir(), 'guestlink-startup-ab-'));
  try {
    const agents = {};
    for (const [i, exe] of exes.entries()) {
      const name = `${i}-${path.basename(path.dirname(path.resolve(exe)))}`;
      agents[name] = [deployedCopy(exe, path.join(dir, name)), START_ARGS];
    }
    const result = await measureStarts(agents, starts, dir);
    const { seaNode } = await import('../scripts/sea-targets.mjs');
    const floor = await nodeFloor(seaNode(process.arch === 'arm64' ? 'arm64' : 'x64').bin, 5);
    const load = readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ');
    process.stdout.write(`${JSON.stringify({ starts, loadavg: load, ...result, nodeFloor: floor }, null, 1)}\n`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
