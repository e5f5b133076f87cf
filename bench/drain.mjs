#!/usr/bin/env node
// Drain wall time against pod count on the Kubernetes API double (test/doubles/kube-api.ts):
// 10, 100 and 500 pods (ReplicaSet pods, no budget), evicted one call at a time and in parallel
// (the lifecycle's default, 32 calls in flight). The double answers each eviction after 10 ms, a
// stand-in for a real API server's admission and etcd write; evicted pods take 100 ms to go, and the
// drain checks for them once a second (kubectl's period). Needs `npm run build` first.
// Usage: node bench/drain.mjs [--pods 10,100,500] [--latency 10]
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const load = (p) => import(path.join(root, 'dist', p));

/** One drain of `pods` pods with at most `concurrency` evictions in flight; returns its figures. */
async function drainOnce(pods, concurrency, latencyMs) {
  const { KubeApiDouble, ADMIN_TOKEN } = await load('test/doubles/kube-api.js');
  const { KubeApi } = await load('src/kube/api.js');
  const { RestClient } = await load('src/kube/rest.js');
  const { drainNode } = await load('src/kube/drain.js');
  const double = await new KubeApiDouble({ terminationMs: 100, readyMs: 50, evictionLatencyMs: latencyMs }).start();
  const rest = new RestClient({ server: double.url, token: () => ADMIN_TOKEN });
  try {
    double.addNode('n1');
    double.addNode('n2');
    double.addNode('n3');
    for (let i = 0; i < pods; i++)
      double.addPod({ name: `app-${i}`, namespace: `ns-${i % 5}`, node: 'n1', owner: { kind: 'ReplicaSet', name: `rs-${i % 10}` } });
    const t0 = Date.now();
    const r = await drainNode({ api: new KubeApi(rest), nodeName: 'n1', deadline: t0 + 120_000, concurrency });
    const accepted = double.evictions().filter((e) => e.status === 201);
    if (r.outcome !== 'drained' || accepted.length !== pods)
      throw new Error(`drain of ${pods} pods: ${r.outcome}, ${accepted.length} evictions`);
    return { pods, concurrency, evictMs: Math.max(...accepted.map((e) => e.at)) - t0, drainMs: r.ms, calls: double.requests.length };
  } finally {
    rest.close();
    await double.stop();
  }
}

/** Rows for bench/run.mjs: one per pod count and mode. */
export async function runDrainBench({ pods = [10, 100, 500], latencyMs = 10 } = {}) {
  const rows = [];
  for (const n of pods) {
    const seq = await drainOnce(n, 1, latencyMs);
    const par = await drainOnce(n, 32, latencyMs);
    rows.push({ ...seq, mode: 'sequential' }, { ...par, mode: 'parallel', speedup: +(seq.evictMs / Math.max(1, par.evictMs)).toFixed(1) });
  }
  return rows;
}

export function drainTable(rows) {
  return [
    '| drain (Kubernetes API double, 10 ms per eviction) | evictions | all evictions accepted | drain done (pods gone) | API calls | speed-up of evictions |',
    '|---:|---|---:|---:|---:|---:|',
    ...rows.map(
      (r) =>
        `| ${r.pods} pods | ${r.mode} (${r.concurrency} in flight) | ${r.evictMs} ms | ${r.drainMs} ms | ${r.calls} | ${r.speedup ? `${r.speedup}x` : ''} |`,
    ),
  ].join('\n');
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const { values } = parseArgs({
    options: { pods: { type: 'string', default: '10,100,500' }, latency: { type: 'string', default: '10' } },
  });
  const rows = await runDrainBench({ pods: values.pods.split(',').map(Number), latencyMs: Number(values.latency) });
  console.log(drainTable(rows));
}
