#!/usr/bin/env node
// VM benchmark: qemu-ga 7.2 and guestlink side by side in the test VM (QEMU TCG, test/e2e/vm/), each on
// the real virtio-serial port of its own VM, all VMs up at once. Measures boot-to-agent-ready (QEMU start until the agent answers
// guest-sync-delimited on the host chardev; median of 3 boots) and guest-ping round trips over the
// chardev (median and p99). Prints a markdown table. Needs `npx tsc -p .` first.
// usage: node bench/vm.mjs [--boots N] [--pings N] [--warmup N] [--executable [NAME=]PATH ...] [--agent NAME=ENTRY ...] [--json FILE]
// --json FILE also writes each agent's figures there ({name: {bootMs, pingMedianMs, pingP99Ms}}; medians), for
// bench/run.mjs's targets.
// --agent adds a guestlink build to compare (e.g. a copy of dist/ from before a change): ENTRY is a module
// run by the host's node inside the guest (through 9p) with the agent's arguments, like bin/guestlink-agent.js.
import { existsSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const vmJs = path.join(root, 'dist/test/e2e/vm/vm.js');
if (!existsSync(vmJs)) {
  console.error('bench/vm.mjs: dist/ is missing: run `npx tsc -p .` first');
  process.exit(1);
}
const { bootVm, vmUnavailableReason } = await import(vmJs);

const arg = (name, def) => {
  const i = process.argv.indexOf(name);
  return i > 0 ? Number(process.argv[i + 1]) : def;
};
const BOOTS = arg('--boots', 3);
// p99 of 500 round trips is their 5th worst, which one TCG hiccup decides: 2000 per boot.
const PINGS = arg('--pings', 2000);
const WARMUP_PINGS = arg('--warmup', 1000);
const QEMU_GA = '/usr/sbin/qemu-ga';

const why = vmUnavailableReason() ?? (existsSync(QEMU_GA) ? undefined : `${QEMU_GA} missing (apt-get install qemu-guest-agent)`);
if (why) {
  console.error(`bench/vm.mjs: ${why}`);
  process.exit(1);
}

const agents = {
  'qemu-ga 7.2': { guestCommand: `exec ${QEMU_GA} -m virtio-serial -p /dev/virtio-ports/org.qemu.guest_agent.0` },
  guestlink: {},
};
for (let i = process.argv.indexOf('--agent'); i > 0; i = process.argv.indexOf('--agent', i + 1)) {
  const [name, entry] = (process.argv[i + 1] ?? '').split('=');
  if (!name || !entry) {
    console.error('bench/vm.mjs: --agent NAME=ENTRY');
    process.exit(2);
  }
  agents[name] = {
    guestCommand: `mkdir -p /run/gl && exec ${process.execPath} ${path.resolve(entry)} -m virtio-serial --power dry-run -t /run/gl`,
  };
}
// --executable [NAME=]PATH adds the single executable (scripts/build-sea.mjs), run in the guest as `PATH agent ...`;
// given again (with NAME=), another build of it beside the first, as for an A/B of a start-up change.
for (let i = process.argv.indexOf('--executable'); i > 0; i = process.argv.indexOf('--executable', i + 1)) {
  const spec = process.argv[i + 1] ?? '';
  const eq = spec.indexOf('=');
  agents[eq > 0 ? spec.slice(0, eq) : 'guestlink (executable)'] = { executable: path.resolve(eq > 0 ? spec.slice(eq + 1) : spec) };
}
const pct = (xs, p) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))];
};

const running = new Set();
process.on('SIGINT', async () => {
  for (const vm of running) await vm.stop().catch(() => {});
  process.exit(130);
});

// All agents' VMs run at once and the pings go round-robin in blocks of PING_BLOCK, so every agent sees the
// same host load (this machine is shared: sequential runs differed by 2-4x from one VM to the next). Boots
// are sequential, the boot order rotates from one round to the next (a VM booted later shares the host with
// the idle ones already up).
const PING_BLOCK = 25;
const results = {};
for (const name of Object.keys(agents)) results[name] = { boot: [], ping: [] };
for (let b = 0; b < BOOTS; b++) {
  const order = Object.keys(agents);
  for (let i = 0; i < b % order.length; i++) order.push(order.shift());
  const vms = [];
  try {
    for (const name of order) {
      const vm = await bootVm(agents[name]);
      running.add(vm);
      vms.push({ name, vm, conn: vm.firstConnection });
      results[name].boot.push(vm.bootToReadyMs);
      process.stderr.write(`boot ${b + 1}/${BOOTS} ${name}: ready in ${(vm.bootToReadyMs / 1000).toFixed(1)} s\n`);
    }
    // Warm-up, not measured: guestlink's JIT settles (TurboFan compiles of the hot path) within ~1000 pings.
    for (const { conn } of vms) for (let i = 0; i < WARMUP_PINGS; i++) await conn.call('guest-ping');
    for (let done = 0; done < PINGS; done += PING_BLOCK) {
      for (const { name, conn } of vms) {
        for (let i = done; i < Math.min(PINGS, done + PING_BLOCK); i++) {
          const t0 = performance.now();
          const r = await conn.execute('guest-ping', undefined, 10_000);
          results[name].ping.push(performance.now() - t0);
          if (r.error) throw new Error(`${name}: guest-ping: ${r.error.desc}`);
        }
      }
    }
    for (const { conn } of vms) await conn.close();
  } finally {
    for (const { vm } of vms) {
      await vm.stop();
      running.delete(vm);
    }
  }
}

const names = Object.keys(agents);
const row = (label, f) => `| ${label} | ${names.map((n) => f(results[n])).join(' | ')} |`;
console.log(
  `| in a VM (QEMU TCG, virtio-serial chardev; ${BOOTS} boots, ${PINGS} pings each after ${WARMUP_PINGS} unmeasured) | ${names.join(' | ')} |`,
);
console.log(`|---|${names.map(() => '---:').join('|')}|`);
console.log(row(`boot to agent ready (median of ${BOOTS})`, (r) => `${(pct(r.boot, 50) / 1000).toFixed(1)} s`));
console.log(row('guest-ping round trip, median', (r) => `${pct(r.ping, 50).toFixed(2)} ms`));
console.log(row('guest-ping round trip, p99', (r) => `${pct(r.ping, 99).toFixed(2)} ms`));
const jsonAt = process.argv.indexOf('--json');
if (jsonAt > 0) {
  const figures = Object.fromEntries(
    names.map((n) => [
      n,
      { bootMs: pct(results[n].boot, 50), pingMedianMs: pct(results[n].ping, 50), pingP99Ms: pct(results[n].ping, 99) },
    ]),
  );
  writeFileSync(process.argv[jsonAt + 1], `${JSON.stringify(figures)}\n`);
}
