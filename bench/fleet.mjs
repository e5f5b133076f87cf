#!/usr/bin/env node
// Fleet mode: `guestlink ping` over 100 agents on local unix sockets, one at a time (-j 1) and 16 at
// a time (-j 16). The agents are real qemu-ga processes (4 MB each; 100 guestlink agents would need
// ~5 GB here and measure the agents' start-up, not the fleet client). Wall time is the CLI's own
// figure (first connect to last reply); the CLI process time includes Node's start-up.
// Needs `npm run build` first. Usage: node bench/fleet.mjs [--agents 100]
import { spawnSync } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

/** Rows { agents, concurrency, ok, wallMs, cliMs, peak }, or [] when qemu-ga is not installed. */
export async function runFleetBench({ agents = 100, concurrency = [1, 16] } = {}) {
  const { startQemuGa, makeTempDir, HAVE_QEMU_GA, QEMU_BLOCK } = await import(path.join(root, 'dist/test/peer/harness.js'));
  if (!HAVE_QEMU_GA) return [];
  const dir = makeTempDir('guestlink-fleet-');
  const peers = [];
  try {
    for (let i = 0; i < agents; i += 10) {
      const batch = Array.from({ length: Math.min(10, agents - i) }, (_, k) => {
        const d = path.join(dir, `q${i + k}`);
        mkdirSync(d);
        return startQemuGa(d, ['-b', QEMU_BLOCK.join(',')]);
      });
      peers.push(...(await Promise.all(batch)));
    }
    const addrs = peers.map((p) => `unix:${p.socket}`);
    const rows = [];
    for (const j of concurrency) {
      const t0 = performance.now();
      const r = spawnSync(process.execPath, [path.join(root, 'bin/guestlink.js'), 'ping', ...addrs, '-j', String(j), '-o', 'json'], {
        encoding: 'utf8',
        maxBuffer: 16 << 20,
      });
      const cliMs = performance.now() - t0;
      if (r.status !== 0) throw new Error(`guestlink ping over ${agents} agents exited ${r.status}: ${r.stderr}`);
      const out = JSON.parse(r.stdout);
      rows.push({
        agents,
        concurrency: j,
        ok: out.results.filter((x) => x.ok).length,
        wallMs: out.wallMs,
        cliMs: Math.round(cliMs),
        peak: out.peakConcurrency,
      });
    }
    return rows;
  } finally {
    await Promise.all(peers.map((p) => p.stop()));
    const { rmSync } = await import('node:fs');
    rmSync(dir, { recursive: true, force: true });
  }
}

export function fleetTable(rows) {
  return [
    '| fleet: `guestlink ping` over N qemu-ga agents | answered | wall (first connect to last reply) | CLI process | peak at once |',
    '|---|---:|---:|---:|---:|',
    ...rows.map((r) => `| ${r.agents} agents, -j ${r.concurrency} | ${r.ok}/${r.agents} | ${r.wallMs} ms | ${r.cliMs} ms | ${r.peak} |`),
  ].join('\n');
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const { values } = parseArgs({ options: { agents: { type: 'string', default: '100' } } });
  console.log(fleetTable(await runFleetBench({ agents: Number(values.agents) })));
}
