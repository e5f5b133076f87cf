#!/usr/bin/env node
// The management endpoint's cost: guest-ping round trips over mutual TLS with the SubjectAccessReview
// cache (the default, 30 s) and without it (--authz-cache-ttl 0: one review per request, answered by
// the Kubernetes API double in this process over keep-alive HTTPS), beside the real qemu-ga and
// guestlink's own unix socket in the same run for scale; and the agent's RSS with the endpoint on
// against the same agent with only the Kubernetes lifecycle. One client, one persistent connection
// per target; rounds interleaved after a warm-up; client (and the API double) on CPU 0, agents on
// CPU 1 when taskset allows. Needs `npm run build` first.
// Usage: node bench/endpoint.mjs [--pings 2000] [--warmup 500]
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const load = (p) => import(path.join(root, 'dist', p));
const QEMU_GA = '/usr/sbin/qemu-ga';
const PING = '{"execute":"guest-ping"}\n';

/** A line-reading client over any connected stream. */
function lineClient(sock) {
  let buf = '';
  const waiters = [];
  sock.setEncoding('utf8');
  sock.on('data', (d) => {
    buf += d;
    let nl = buf.indexOf('\n');
    while (nl >= 0 && waiters.length) {
      const line = buf.slice(0, nl);
      buf = buf.slice(nl + 1);
      waiters.shift()(line);
      nl = buf.indexOf('\n');
    }
  });
  return {
    ping: () =>
      new Promise((resolve, reject) => {
        waiters.push((line) => (line === '{"return": {}}' ? resolve() : reject(new Error(line))));
        sock.write(PING);
      }),
    close: () => sock.destroy(),
  };
}

const unixClient = (p) =>
  new Promise((resolve, reject) => {
    const s = net.connect(p, () => resolve(lineClient(s)));
    s.once('error', reject);
  });

const rssMb = (pid) => {
  const m = /VmRSS:\s+(\d+)/.exec(spawnSync('cat', [`/proc/${pid}/status`], { encoding: 'utf8' }).stdout ?? '');
  return m ? Number(m[1]) / 1024 : Number.NaN;
};
const pct = (xs, p) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))];
};
const taskset = (cpu, pid) => spawnSync('taskset', ['-a', '-cp', cpu, String(pid)], { stdio: 'ignore' }).status === 0;

/** Runs the measurement; rows for endpointTable(). */
export async function runEndpointBench({ pings = 2000, warmup = 500 } = {}) {
  const { startCluster, startEndpointAgent, TlsQga, until } = await load('test/identity/harness.js');
  const { makeTempDir, startQemuGa, startGuestlink } = await load('test/peer/harness.js');
  const double = await startCluster({ selfApprove: true });
  const started = [];
  const clients = [];
  try {
    const cached = await startEndpointAgent(double, ['--csr-approve', 'self']);
    started.push(cached.agent);
    const uncached = await startEndpointAgent(double, ['--csr-approve', 'self', '--authz-cache-ttl', '0']);
    started.push(uncached.agent);
    for (const ep of [cached, uncached])
      if (!(await until(() => ep.lines().find((l) => l.msg === 'management endpoint serving'), 20_000)))
        throw new Error(`no certificate: ${ep.agent.stderr()}`);
    // The same agent without the endpoint: only the Kubernetes lifecycle (its client) loaded.
    const plainDir = makeTempDir('guestlink-bench-plain-');
    const { writeFileSync } = await import('node:fs');
    const { kubeconfigFor } = await load('test/doubles/kube-api.js');
    writeFileSync(path.join(plainDir, 'kubeconfig'), kubeconfigFor(double), { mode: 0o600 });
    const plain = await startGuestlink(plainDir, [
      '--kube',
      'kubeconfig',
      '--kubeconfig',
      path.join(plainDir, 'kubeconfig'),
      '--node-name',
      'n1',
    ]);
    started.push(plain);
    let qemu;
    if (existsSync(QEMU_GA)) {
      const qdir = makeTempDir('guestlink-bench-qga-');
      mkdirSync(qdir, { recursive: true });
      qemu = await startQemuGa(qdir);
      started.push(qemu);
    }
    const ca = double.clusterCa.cert;
    const op = double.clusterCa.client('operator');
    const tlsClient = async (port) => {
      const c = await TlsQga.connect(port, ca, op);
      return {
        ping: async () => JSON.stringify(await c.call('guest-ping')) === '{"return":{}}' || Promise.reject(new Error('ping')),
        close: () => c.close(),
      };
    };
    const targets = [
      ...(qemu ? [['qemu-ga, unix socket', await unixClient(qemu.socket), qemu.pid]] : []),
      ['guestlink, unix socket', await unixClient(cached.agent.socket), cached.agent.pid],
      ['guestlink, mTLS, SubjectAccessReview cached', await tlsClient(cached.port), cached.agent.pid],
      ['guestlink, mTLS, a SubjectAccessReview per request', await tlsClient(uncached.port), uncached.agent.pid],
    ];
    clients.push(...targets.map((t) => t[1]));
    const rssIdle = { endpoint: rssMb(cached.agent.pid), plain: rssMb(plain.pid) };
    const cpus = os.cpus().length;
    const pinned =
      cpus >= 2 && taskset(`0-${cpus - 1}`, process.pid) && taskset('0', process.pid) && started.every((p) => taskset('1', p.pid));
    const times = targets.map(() => []);
    for (const [, c] of targets) for (let i = 0; i < warmup; i++) await c.ping();
    const round = 200;
    for (let done = 0; done < pings; done += round)
      for (const [i, [, c]] of targets.entries())
        for (let k = 0; k < round; k++) {
          const t0 = performance.now();
          await c.ping();
          times[i].push((performance.now() - t0) * 1000);
        }
    if (pinned) for (const p of [process, ...started]) taskset(`0-${cpus - 1}`, p.pid);
    const rows = targets.map(([name], i) => ({ name, median: pct(times[i], 50), p99: pct(times[i], 99) }));
    return {
      rows,
      rss: { ...rssIdle, endpointAfter: rssMb(cached.agent.pid), plainAfter: rssMb(plain.pid) },
      pings,
      warmup,
      pinned,
      reviews: double.certificates.reviews.filter((r) => r.kind === 'SubjectAccessReview').length,
    };
  } finally {
    for (const c of clients) c.close();
    for (const p of started) await p.stop();
    await double.stop();
  }
}

/** The Markdown tables for docs/benchmarks.md. */
export function endpointTable(r) {
  const base = r.rows[0];
  const fmt = (n) => (n >= 100 ? n.toFixed(0) : n.toFixed(1));
  const lines = [
    `| management endpoint: guest-ping, ${r.pings} per target after ${r.warmup} unmeasured, interleaved${r.pinned ? ', client and API double on CPU 0, agents on CPU 1' : ''} | median (µs) | p99 (µs) | median / ${base.name} |`,
    '|---|---:|---:|---:|',
    ...r.rows.map((x) => `| ${x.name} | ${fmt(x.median)} | ${fmt(x.p99)} | ${(x.median / base.median).toFixed(2)}x |`),
    '',
    '| agent RSS (MB), same run | idle | after the pings |',
    '|---|---:|---:|',
    `| Kubernetes lifecycle only (--kube kubeconfig) | ${r.rss.plain.toFixed(1)} | ${r.rss.plainAfter.toFixed(1)} |`,
    `| with the endpoint on (--listen tls://, certificate issued, one mTLS client) | ${r.rss.endpoint.toFixed(1)} | ${r.rss.endpointAfter.toFixed(1)} |`,
  ];
  return lines.join('\n');
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const { values } = parseArgs({ options: { pings: { type: 'string', default: '2000' }, warmup: { type: 'string', default: '500' } } });
  const r = await runEndpointBench({ pings: Number(values.pings), warmup: Number(values.warmup) });
  console.log(
    `Measured ${new Date().toISOString().slice(0, 10)} on ${os.cpus().length} cores, Node ${process.version}; ${r.reviews} SubjectAccessReviews answered by the API double.\n`,
  );
  console.log(endpointTable(r));
}
