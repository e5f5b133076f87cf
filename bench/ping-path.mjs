#!/usr/bin/env node
// The ping path, A/B: two (or more) builds of the agent side by side in one run, the pings interleaved
// between them in short slices (as bench/run.mjs does with qemu-ga), each agent counting its own garbage
// collections (bench/gc-probe.cjs). Prints per build: round trip median, p99 and max (µs) over the
// measured pings, and scavenges per 30,000 pings. How docs/benchmarks.md's "ping path" figures were taken.
//
//   node bench/ping-path.mjs --agent before=/tmp/old/bin/guestlink-agent.js --agent after=bin/guestlink-agent.js \
//     [--agent exe=dist/sea/guestlink] [--qemu-ga] [--pings 30000] [--warmup 2000] [--slices 30] [--json FILE]
//
// A path ending in .js/.mjs runs on this Node with `--require bench/gc-probe.cjs`; anything else is an
// executable (the SEA: `guestlink agent ...`, the probe through NODE_OPTIONS). The agents are pinned to
// CPU 1 and this client to CPU 0 while pinging (agent-client.mjs pinForPings).
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { Client, pct, pinForPings, pingRound, waitReady } from './agent-client.mjs';

const root = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..');
const PROBE = path.join(root, 'bench/gc-probe.cjs');

/** What scavenges are counted per: the figure. */
export const SCAVENGE_BASE = 30_000;

/**
 * Starts an agent on a unix socket in `dir` with the probe preloaded: `cmd` (a .js/.mjs entry run on this
 * Node, or an executable run as `EXE agent`) and `flags` after the socket's. Returns {child, sock, gcFile}.
 */
export function startProbed(name, entry, dir, flags) {
  const sock = path.join(dir, `${name}.sock`);
  const state = path.join(dir, `${name}-state`);
  const gcFile = path.join(dir, `${name}.gc`);
  rmSync(state, { recursive: true, force: true });
  mkdirSync(state, { recursive: true });
  const script = /\.m?js$/.test(entry);
  const args = ['-m', 'unix-listen', '-p', sock, '-t', state, ...flags];
  const env = { ...process.env, GUESTLINK_GC_PROBE: gcFile };
  if (!script) env.NODE_OPTIONS = `${process.env.NODE_OPTIONS ?? ''} --require ${PROBE}`.trim();
  const child = script
    ? spawn(process.execPath, ['--require', PROBE, entry, ...args], { stdio: 'ignore', env })
    : spawn(entry, ['agent', ...args], { stdio: 'ignore', env });
  return { child, sock, gcFile };
}

/** The probe's counts now ({minor, major, other, minorMs, minorMaxMs}), or undefined when it wrote none. */
export function gcCounts(gcFile) {
  try {
    return JSON.parse(readFileSync(gcFile, 'utf8').trim());
  } catch {
    return undefined;
  }
}

/** Lets the probe's observer deliver the collections of the pings just sent (its entries come in a later turn). */
export const settleProbe = () => new Promise((r) => setTimeout(r, 100));

/**
 * Pings `agents` ([{name, c, gcFile}]) interleaved: `warmup` unmeasured each, then `pings` each in `slices`
 * slices alternating the order. Returns per name {rtts, scavenges (per 30,000 measured pings), majors}.
 */
export async function interleavedPings(agents, pings, warmup, slices) {
  for (const a of agents) await pingRound(a.c, warmup);
  await settleProbe();
  const before = new Map(agents.map((a) => [a.name, a.gcFile ? gcCounts(a.gcFile) : undefined]));
  const rtts = new Map(agents.map((a) => [a.name, []]));
  const per = Math.ceil(pings / slices);
  for (let s = 0; s < slices; s++) {
    for (const a of s % 2 === 0 ? agents : [...agents].reverse()) rtts.get(a.name).push(...(await pingRound(a.c, per)));
  }
  await settleProbe();
  const out = {};
  for (const a of agents) {
    const b = before.get(a.name);
    const n = a.gcFile ? gcCounts(a.gcFile) : undefined;
    const r = rtts.get(a.name);
    const scale = SCAVENGE_BASE / r.length;
    out[a.name] = {
      rtts: r,
      scavenges: b && n ? (n.minor - b.minor) * scale : undefined,
      majors: b && n ? n.major - b.major : undefined,
      scavengeMs: b && n ? n.minorMs - b.minorMs : undefined,
    };
  }
  return out;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const { values: opt } = parseArgs({
    options: {
      agent: { type: 'string', multiple: true, default: [] },
      'qemu-ga': { type: 'boolean', default: false },
      pings: { type: 'string', default: String(SCAVENGE_BASE) },
      warmup: { type: 'string', default: '2000' },
      slices: { type: 'string', default: '30' },
      json: { type: 'string' },
    },
  });
  const dir = mkdtempSync(path.join(os.tmpdir(), 'guestlink-ping-path-'));
  const started = [];
  try {
    const flags = ['-c', '/dev/null', '--power', 'dry-run'];
    for (const spec of opt.agent) {
      const eq = spec.indexOf('=');
      const [name, entry] = eq > 0 ? [spec.slice(0, eq), spec.slice(eq + 1)] : [path.basename(spec), spec];
      started.push({ name, ...startProbed(name, path.resolve(entry), dir, flags) });
    }
    if (opt['qemu-ga']) {
      const sock = path.join(dir, 'qemu-ga.sock');
      const st = path.join(dir, 'qemu-ga-state');
      mkdirSync(st);
      started.push({
        name: 'qemu-ga',
        child: spawn('/usr/sbin/qemu-ga', ['-m', 'unix-listen', '-p', sock, '-t', st], { stdio: 'ignore' }),
        sock,
      });
    }
    for (const a of started) {
      await waitReady(a.sock);
      a.c = await Client.connect(a.sock);
    }
    const unpin = pinForPings(started.map((a) => a.child.pid));
    let res;
    try {
      res = await interleavedPings(started, Number(opt.pings), Number(opt.warmup), Number(opt.slices));
    } finally {
      unpin?.();
    }
    const load = os.loadavg().map((l) => l.toFixed(2));
    console.log(
      `${Number(opt.pings)} pings each after ${opt.warmup} unmeasured, ${opt.slices} interleaved slices${unpin ? ', pinned' : ''}; load average ${load.join(' ')}`,
    );
    console.log('| build | median (µs) | p99 (µs) | max (µs) | scavenges per 30,000 pings | scavenge time (ms) | major GCs |');
    console.log('|---|---:|---:|---:|---:|---:|---:|');
    const summary = {};
    for (const a of started) {
      const r = res[a.name];
      const s = {
        median: pct(r.rtts, 50),
        p99: pct(r.rtts, 99),
        max: Math.max(...r.rtts),
        scavenges: r.scavenges,
        scavengeMs: r.scavengeMs,
        majors: r.majors,
      };
      summary[a.name] = s;
      const f = (n, d = 0) => (n === undefined ? '—' : n.toFixed(d));
      console.log(
        `| ${a.name} | ${f(s.median, 1)} | ${f(s.p99)} | ${f(s.max)} | ${f(s.scavenges, 1)} | ${f(s.scavengeMs, 1)} | ${f(s.majors)} |`,
      );
    }
    if (opt.json) writeFileSync(opt.json, JSON.stringify({ load: os.loadavg(), summary }));
  } finally {
    for (const a of started) {
      a.c?.close();
      a.child.kill('SIGTERM');
    }
    rmSync(dir, { recursive: true, force: true });
  }
}
