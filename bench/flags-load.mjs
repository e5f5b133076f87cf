#!/usr/bin/env node
// Builds of the executable under load, A/B: what a change of its Node/V8 flags (scripts/build-sea.mjs
// --exec-argv) does once the agent works, beside what bench/startup.mjs --ab measures at start. Each build
// runs as an installed copy (bench/startup.mjs deployedCopy) with its GC probe (bench/gc-probe.cjs through
// NODE_OPTIONS): pings interleaved between them (pinned as bench/run.mjs pins them), then, one agent
// after the other, reads of a random file in 4 MiB chunks. Prints one JSON object: per build the ping
// median/p99/max (µs), scavenges per 30,000 pings, read MB/s (median of the rounds), peak RSS (VmHWM) and,
// --settle ms (default 2,000) after the reads, VmRSS and RssAnon (MB).
//
//   node bench/flags-load.mjs EXE_A EXE_B [...] [--pings 30000] [--file-mib 64] [--rounds 3] [--settle MS]
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { Client, pct, pinForPings, waitReady } from './agent-client.mjs';
import { interleavedPings, startProbed } from './ping-path.mjs';
import { deployedCopy, statusMb } from './startup.mjs';

const { values: opt, positionals: exes } = parseArgs({
  allowPositionals: true,
  options: {
    pings: { type: 'string', default: '30000' },
    'file-mib': { type: 'string', default: '64' },
    rounds: { type: 'string', default: '3' },
    settle: { type: 'string', default: '2000' },
  },
});
if (exes.length < 1) {
  process.stderr.write('usage: node bench/flags-load.mjs EXE_A EXE_B [...] [--pings N] [--file-mib N] [--rounds N] [--settle MS]\n');
  process.exit(2);
}

const dir = mkdtempSync(path.join(os.tmpdir(), 'guestlink-flags-load-'));
const data = path.join(dir, 'data.bin');
writeFileSync(data, randomBytes(Number(opt['file-mib']) << 20));
const agents = [];
try {
  for (const [i, exe] of exes.entries()) {
    const name = `${i}-${path.basename(path.dirname(path.resolve(exe)))}`;
    const copy = deployedCopy(exe, path.join(dir, name));
    const flags = ['-c', '/dev/null', '--power', 'dry-run', '--allow-file-read', `${dir}/`];
    const { child, sock, gcFile } = startProbed(name, copy, dir, flags);
    agents.push({ name, child, sock, gcFile });
  }
  for (const a of agents) {
    await waitReady(a.sock);
    a.c = await Client.connect(a.sock);
  }
  const unpin = pinForPings(agents.map((a) => a.child.pid));
  let pings;
  try {
    pings = await interleavedPings(agents, Number(opt.pings), 2000, 30);
  } finally {
    unpin?.();
  }
  const out = {};
  for (const a of agents) {
    const speeds = [];
    for (let r = 0; r < Number(opt.rounds); r++) {
      const t = process.hrtime.bigint();
      const h = (await a.c.request({ execute: 'guest-file-open', arguments: { path: data, mode: 'r' } })).return;
      let total = 0;
      for (;;) {
        const res = await a.c.read(h, 4 << 20);
        total += res.data.length;
        if (res.eof || res.data.length === 0) break;
      }
      await a.c.request({ execute: 'guest-file-close', arguments: { handle: h } });
      if (total !== Number(opt['file-mib']) << 20) throw new Error(`${a.name}: read ${total} bytes`);
      speeds.push(total / 1e6 / (Number(process.hrtime.bigint() - t) / 1e9));
    }
    const peak = statusMb(a.child.pid, 'VmHWM');
    await new Promise((r) => setTimeout(r, Number(opt.settle)));
    const p = pings[a.name];
    out[a.name] = {
      pingMedianUs: pct(p.rtts, 50),
      pingP99Us: pct(p.rtts, 99),
      pingMaxUs: Math.max(...p.rtts),
      scavenges: p.scavenges,
      majors: p.majors,
      readMBs: pct(speeds, 50),
      peakRssMb: peak,
      afterRssMb: statusMb(a.child.pid, 'VmRSS'),
      afterAnonMb: statusMb(a.child.pid, 'RssAnon'),
    };
  }
  const load = readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ');
  process.stdout.write(`${JSON.stringify({ pings: Number(opt.pings), loadavg: load, ...out }, null, 1)}\n`);
} finally {
  for (const a of agents) {
    a.c?.close();
    a.child.kill('SIGKILL');
  }
  rmSync(dir, { recursive: true, force: true });
}
