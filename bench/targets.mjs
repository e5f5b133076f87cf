// The performance targets (issue 16), in one table: bench/run.mjs prints where each stands after a run,
// and `node bench/run.mjs --check` exits 1 when one is missed. Ratios are against qemu-ga measured in the
// same run (never against a figure from another day); the memory target is against Node's own floor
// measured in the same run (the executable's Node idling on a timer, bench/startup.mjs nodeFloor).
//
// `value(r)` and `limit(r)` read the run's results:
//   r.q, r.g, r.e qemu-ga's, the checkout's and the executable's rows (pings, reads, execs: bench/run.mjs;
//                 r.e absent when the executable was not built)
//   r.starts      {name: {startMs, cpuMs, rssMb, anonMb}} spreads (bench/startup.mjs measureStarts)
//   r.floor       {rssMb, anonMb} spreads of Node's floor
//   r.vm          {agent name: {bootMs, pingMedianMs, pingP99Ms}} from bench/vm.mjs --json (QEMU TCG VMs)
// A target whose figure the run did not take (no executable built, VM part not run) is "not measured",
// which --check reports and does not count as missed. `atLeast` marks a floor (throughput), the rest are
// ceilings. The ping max is the slowest of the measured pings, the same samples as p99 (after the warm-up:
// bench/run.mjs pingRounds), and a fixed 2 ms rather than a ratio: the issue's figure for the unix socket.

/**
 * The least Node agent's name in r.starts (bench/least-agent.cjs, started in turn with the others): what any
 * agent on the executable's Node costs, printed beside the start and idle targets as their reference.
 */
export const LEAST_AGENT = 'least Node agent';

/** The build columns the per-build targets are made for: [key in the results, label]. */
const BUILDS = [
  ['g', 'checkout'],
  ['e', 'executable'],
];

/** One target per build: `make(key, label)` returns the target for that column. */
const perBuild = (make) => BUILDS.map(([key, label]) => make(key, label));

/** The targets: what, the figure, its limit, the unit. */
export const TARGETS = [
  {
    id: 'sea-start',
    what: 'executable: process start to first guest-sync reply, median',
    unit: 'ms',
    value: (r) => r.starts?.['guestlink-sea']?.startMs.median,
    limit: () => 35,
    reference: (r) => r.starts?.[LEAST_AGENT]?.startMs.median,
  },
  {
    id: 'sea-idle-rss',
    what: "executable: idle RSS, median, at most Node's floor + 6 MB",
    unit: 'MB',
    value: (r) => r.starts?.['guestlink-sea']?.rssMb.median,
    limit: (r) => (r.floor ? r.floor.rssMb.median + 6 : undefined),
    reference: (r) => r.starts?.[LEAST_AGENT]?.rssMb.median,
  },
  ...perBuild((key, label) => ({
    id: key === 'g' ? 'ping-p99' : 'sea-ping-p99',
    what: `${label}: guest-ping p99, at most 1.3x qemu-ga`,
    unit: 'µs',
    value: (r) => r[key]?.pingP99Us,
    limit: (r) => (r.q ? r.q.pingP99Us * 1.3 : undefined),
  })),
  ...perBuild((key, label) => ({
    id: key === 'g' ? 'ping-max' : 'sea-ping-max',
    what: `${label}: guest-ping max over the measured pings, unix socket`,
    unit: 'µs',
    value: (r) => r[key]?.pingMaxUs,
    limit: () => 2000,
  })),
  ...perBuild((key, label) => ({
    id: key === 'g' ? 'exec-round-trip' : 'sea-exec-round-trip',
    what: `${label}: guest-exec /bin/true until exited, median, at most 1.2x qemu-ga`,
    unit: 'ms',
    value: (r) => r[key]?.execMs,
    limit: (r) => (r.q ? r.q.execMs * 1.2 : undefined),
  })),
  ...perBuild((key, label) => ({
    id: key === 'g' ? 'read-throughput' : 'sea-read-throughput',
    what: `${label}: guest-file-read of 4 MiB chunks, at least 2x qemu-ga's MB/s`,
    unit: 'MB/s',
    atLeast: true,
    value: (r) => r[key]?.readMBs,
    limit: (r) => (r.q ? r.q.readMBs * 2 : undefined),
  })),
  {
    id: 'vm-boot',
    what: 'executable in a VM: boot to agent ready, median, at most qemu-ga + 0.5 s',
    unit: 's',
    value: (r) => (r.vm?.['guestlink (executable)'] ? r.vm['guestlink (executable)'].bootMs / 1000 : undefined),
    limit: (r) => (r.vm?.['qemu-ga 7.2'] ? r.vm['qemu-ga 7.2'].bootMs / 1000 + 0.5 : undefined),
  },
  {
    id: 'vm-ping-p99',
    what: 'executable in a VM: guest-ping p99, at most 1.3x qemu-ga',
    unit: 'ms',
    value: (r) => r.vm?.['guestlink (executable)']?.pingP99Ms,
    limit: (r) => (r.vm?.['qemu-ga 7.2'] ? r.vm['qemu-ga 7.2'].pingP99Ms * 1.3 : undefined),
  },
  ...perBuild((key, label) => ({
    id: key === 'g' ? 'read-peak-rss' : 'sea-read-peak-rss',
    what: `${label}: peak RSS during 64 MiB of 4 MiB reads`,
    unit: 'MB',
    value: (r) => r[key]?.peakRssMb,
    limit: () => 64,
  })),
];

/**
 * Each target's standing: {id, what, unit, value, limit, atLeast, status: 'pass' | 'fall short' | 'not
 * measured', reference}: `reference` is the least Node agent's figure for the same measure, where a target
 * has one and the run took it (undefined otherwise).
 */
export function evaluate(results) {
  return TARGETS.map((t) => {
    const value = t.value(results);
    const limit = t.limit(results);
    const measured = Number.isFinite(value) && Number.isFinite(limit);
    const atLeast = t.atLeast === true;
    const met = atLeast ? value >= limit : value <= limit;
    return {
      id: t.id,
      what: t.what,
      unit: t.unit,
      value,
      limit,
      atLeast,
      status: !measured ? 'not measured' : met ? 'pass' : 'fall short',
      reference: t.reference?.(results),
    };
  });
}

const num = (n) => (n >= 100 ? n.toFixed(0) : n.toFixed(1));

/** The targets as a markdown table (for the printout and docs/benchmarks.md). */
export function targetsTable(standings) {
  return [
    '| target | measured | limit | |',
    '|---|---:|---:|---|',
    ...standings.map(
      (s) =>
        `| ${s.what} | ${Number.isFinite(s.value) ? `${num(s.value)} ${s.unit}` : '—'} | ${Number.isFinite(s.limit) ? `${s.atLeast ? '≥' : '≤'} ${num(s.limit)} ${s.unit}` : '—'} | ${s.status}${Number.isFinite(s.reference) ? ` (the least Node agent: ${num(s.reference)} ${s.unit})` : ''} |`,
    ),
  ].join('\n');
}
