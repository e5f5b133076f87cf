#!/usr/bin/env node
// VM benchmark: qemu-ga 7.2 and guestlink side by side in the test VM (QEMU TCG, test/e2e/vm/), each on
// the real virtio-serial port. Measures boot-to-agent-ready (QEMU start until the agent answers
// guest-sync-delimited on the host chardev; median of 3 boots) and guest-ping round trips over the
// chardev (median and p99). Prints a markdown table. Needs `npx tsc -p .` first.
// usage: node bench/vm.mjs [--boots N] [--pings N]
import { existsSync } from 'node:fs';
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
const PINGS = arg('--pings', 500);
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
const pct = (xs, p) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))];
};

let current;
process.on('SIGINT', async () => {
  await current?.stop().catch(() => {});
  process.exit(130);
});

const results = {};
for (const name of Object.keys(agents)) results[name] = { boot: [], ping: [] };
for (let b = 0; b < BOOTS; b++) {
  for (const [name, opts] of Object.entries(agents)) {
    current = await bootVm(opts);
    try {
      results[name].boot.push(current.bootToReadyMs);
      const conn = current.firstConnection;
      for (let i = 0; i < 20; i++) await conn.call('guest-ping'); // warm-up
      for (let i = 0; i < PINGS; i++) {
        const t0 = performance.now();
        const r = await conn.execute('guest-ping', undefined, 10_000);
        results[name].ping.push(performance.now() - t0);
        if (r.error) throw new Error(`${name}: guest-ping: ${r.error.desc}`);
      }
      await conn.close();
      process.stderr.write(`boot ${b + 1}/${BOOTS} ${name}: ready in ${(current.bootToReadyMs / 1000).toFixed(1)} s\n`);
    } finally {
      await current.stop();
      current = undefined;
    }
  }
}

const names = Object.keys(agents);
const row = (label, f) => `| ${label} | ${names.map((n) => f(results[n])).join(' | ')} |`;
console.log(`| in a VM (QEMU TCG, virtio-serial chardev; ${BOOTS} boots, ${PINGS} pings each) | ${names.join(' | ')} |`);
console.log(`|---|${names.map(() => '---:').join('|')}|`);
console.log(row(`boot to agent ready (median of ${BOOTS})`, (r) => `${(pct(r.boot, 50) / 1000).toFixed(1)} s`));
console.log(row('guest-ping round trip, median', (r) => `${pct(r.ping, 50).toFixed(2)} ms`));
console.log(row('guest-ping round trip, p99', (r) => `${pct(r.ping, 99).toFixed(2)} ms`));
