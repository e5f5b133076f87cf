#!/usr/bin/env node
// Freeze request to frozen, with and without the etcd snapshot the freeze takes first: a real etcd
// (Debian's etcd-server on loopback) holding a ~100 MB database, a real ext4 of our own (loop-mounted,
// frozen with FIFREEZE through LinuxStorage on a private root, as test/linux/etcd-freeze.test.ts does),
// and the agent's own freeze handler (FreezeController + Snapshotter + etcd gRPC source), in process;
// etcd's own `etcdctl snapshot save` of the same database for comparison. Needs root,
// etcd-server/etcd-client and `npm run build`; bench/run.mjs includes it. Standalone, under the lock:
//   flock /tmp/guestlink-heavy.lock node bench/etcd-freeze.mjs [--mib 100] [--rounds 5]
import { randomBytes } from 'node:crypto';
import { statSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const load = (p) => import(path.join(root, 'dist', p));
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const quiet = { info() {}, warn() {}, error() {}, debug() {}, child: () => quiet };

/** Figures { dbBytes, snapshotBytes, revision, rounds, rows: [{ label, median, min, max }] }, or { skipped: why }. */
export async function runEtcdFreezeBench({ mib = 100, rounds = 5 } = {}) {
  const { startEtcd, etcdMissing } = await load('test/etcd/real-etcd.js');
  const { mountLoopExt4 } = await load('test/linux/loop-fs.js');
  const { createFreezeHandlers, FreezeController } = await load('src/commands/freeze.js');
  const { Snapshotter } = await load('src/node/etcd/snapshotter.js');
  const { detectEtcd } = await load('src/node/linux/etcd-endpoints.js');
  const { EtcdGrpcSource } = await load('src/node/linux/etcd-source.js');
  const { LinuxStorage } = await load('src/node/linux/storage.js');
  const { runFsfreezeHook } = await load('src/node/linux/freeze-hook.js');
  const { MemoryAgentState } = await load('test/doubles/memory-state.js');
  const missing = etcdMissing();
  if (missing) return { skipped: missing };
  const fs = mountLoopExt4((mib * 4 + 256) * 1024 * 1024, 'guestlink-bench-etcd-');
  if (typeof fs === 'string') return { skipped: fs };
  let etcd;
  try {
    etcd = await startEtcd({ dataDir: path.join(fs.dir, 'etcd-data') });
    // 1 MiB random values (etcd's request limit is 1.5 MiB): the database grows by a bit more each.
    for (let i = 0; i < mib; i++) etcd.put(`/bench/blob-${i}`, randomBytes(1 << 20));
    const dbBytes = statSync(path.join(fs.dir, 'etcd-data/member/snap/db')).size;
    const storage = new LinuxStorage(fs.root);
    const snapshots = new Snapshotter(new EtcdGrpcSource(detectEtcd({ etcdEndpoints: [etcd.url] })), {
      dir: path.join(fs.mnt, 'etcd-snapshots'),
      keep: 2,
      timeoutMs: 60_000,
      maxBytes: 8 * 1024 ** 3,
      log: quiet,
    });
    const h = createFreezeHandlers(new FreezeController({ runHook: runFsfreezeHook }));
    const rows = [];
    for (const withSnapshot of [false, true]) {
      const ctx = {
        node: { storage, ...(withSnapshot ? { etcdSnapshots: snapshots } : {}) },
        state: new MemoryAgentState(),
        settings: { allowExec: [], allowFileRead: [], allowFileWrite: [], fsfreezeTimeout: 0 },
        log: quiet,
      };
      const times = [];
      for (let r = 0; r < rounds + 1; r++) {
        const t0 = performance.now();
        const n = await h['guest-fsfreeze-freeze-list']({ mountpoints: [fs.mnt] }, ctx);
        const ms = performance.now() - t0;
        await h['guest-fsfreeze-thaw']({}, ctx);
        if (n !== 1) throw new Error(`froze ${n}`);
        if (withSnapshot && !snapshots.last()?.snapshot) throw new Error(`no snapshot: ${JSON.stringify(snapshots.last())}`);
        if (r > 0) times.push(ms); // the first round warms the page cache and loads gRPC
      }
      const label = withSnapshot
        ? 'freeze request to frozen, with the etcd snapshot first'
        : 'freeze request to frozen, without a snapshot';
      rows.push({ label, median: median(times), min: Math.min(...times), max: Math.max(...times) });
    }
    const ctl = [];
    for (let r = 0; r < rounds; r++) {
      const t0 = performance.now();
      if (etcd.ctl(['snapshot', 'save', path.join(fs.dir, 'etcdctl.db')]).status !== 0) throw new Error('etcdctl snapshot save failed');
      ctl.push(performance.now() - t0);
    }
    rows.push({
      label: "for comparison: `etcdctl snapshot save` (etcd's own client, to the host's disk)",
      median: median(ctl),
      min: Math.min(...ctl),
      max: Math.max(...ctl),
    });
    const snap = snapshots.last()?.snapshot;
    return { dbBytes, snapshotBytes: snap.size, revision: snap.revision, rounds, rows };
  } finally {
    await etcd?.stop();
    fs.cleanup();
  }
}

/** The markdown table for docs/benchmarks.md. */
export function etcdFreezeTable(r) {
  if (r.skipped) return `(etcd snapshot benchmark not run: ${r.skipped})`;
  const mb = (b) => (b / 1e6).toFixed(0);
  const ms = (x) => `${x.toFixed(0)} ms`;
  return [
    `| etcd snapshot at the freeze (bench/etcd-freeze.mjs: real etcd on loopback, a ${mb(r.dbBytes)} MB database, ${mb(r.snapshotBytes)} MB snapshot; loop-mounted ext4; the agent's freeze handler; ${r.rounds} rounds after one unmeasured) | median | min | max |`,
    '|---|---:|---:|---:|',
    ...r.rows.map((x) => `| ${x.label} | ${ms(x.median)} | ${ms(x.min)} | ${ms(x.max)} |`),
  ].join('\n');
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const { values: opt } = parseArgs({ options: { mib: { type: 'string', default: '100' }, rounds: { type: 'string', default: '5' } } });
  console.log(etcdFreezeTable(await runEtcdFreezeBench({ mib: Number(opt.mib), rounds: Number(opt.rounds) })));
}
