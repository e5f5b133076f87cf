// Bench-only: counts an agent's garbage collections from inside it, for bench/run.mjs's "scavenges per
// 30,000 pings". Preloaded into the agent (`node --require bench/gc-probe.cjs ...`, or NODE_OPTIONS for
// the single executable), never part of the product. It watches perf_hooks' 'gc' entries and, after
// each batch of them, writes the running counts as one JSON line over the start of the file named by
// GUESTLINK_GC_PROBE (fixed width, so a reader never sees two lengths mixed). The observer costs an
// entry per collection, nothing per request, so it does not change what it counts.
//
// GUESTLINK_GC_PROBE_ALLOC=1 also samples allocations through the inspector (V8's sampling heap
// profiler with the objects that scavenges collected kept in the profile: where per-request garbage
// comes from); SIGUSR2 writes the profile next to the counts as FILE.heapprofile and starts a new one.
'use strict';
const fs = require('node:fs');
const { PerformanceObserver, constants } = require('node:perf_hooks');

const file = process.env.GUESTLINK_GC_PROBE;
if (file) {
  const fd = fs.openSync(file, 'w');
  const counts = { minor: 0, major: 0, other: 0, minorMs: 0, minorMaxMs: 0 };
  const WIDTH = 256;
  const write = () => fs.writeSync(fd, `${JSON.stringify(counts)}\n`.padEnd(WIDTH, ' '), 0);
  write();
  const observer = new PerformanceObserver((list) => {
    for (const e of list.getEntries()) {
      const kind = e.detail?.kind ?? e.kind;
      if (kind === constants.NODE_PERFORMANCE_GC_MINOR) {
        counts.minor++;
        counts.minorMs += e.duration;
        counts.minorMaxMs = Math.max(counts.minorMaxMs, e.duration);
      } else if (kind === constants.NODE_PERFORMANCE_GC_MAJOR) counts.major++;
      else counts.other++;
    }
    write();
  });
  observer.observe({ entryTypes: ['gc'] });

  if (process.env.GUESTLINK_GC_PROBE_ALLOC === '1') {
    const { Session } = require('node:inspector');
    const session = new Session();
    session.connect();
    const start = () =>
      session.post('HeapProfiler.startSampling', {
        samplingInterval: 256,
        includeObjectsCollectedByMajorGC: true,
        includeObjectsCollectedByMinorGC: true,
      });
    start();
    process.on('SIGUSR2', () => {
      session.post('HeapProfiler.stopSampling', (err, r) => {
        if (!err) fs.writeFileSync(`${file}.heapprofile`, JSON.stringify(r.profile));
        start();
      });
    });
  }
}
