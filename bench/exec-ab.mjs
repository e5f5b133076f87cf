#!/usr/bin/env node
// Paired A/B of guest-exec's round trip: qemu-ga and two guestlink checkouts (e.g. a copy of main and this
// one, each built with `npm run build && npm run build:native`) side by side on unix sockets, rounds of
// guest-exec /bin/true (capture-output) then guest-exec-status until exited, interleaved between the three
// so a drift of the machine's speed hits them alike. Prints the medians of guest-exec's reply and of the
// whole round trip. Run under the heavy lock: flock /tmp/guestlink-heavy.lock node bench/exec-ab.mjs A B
// (docs/benchmarks.md, "guest-exec round trip").
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';

const { values: opt, positionals } = parseArgs({
  allowPositionals: true,
  options: { rounds: { type: 'string', default: '10' }, per: { type: 'string', default: '20' } },
});
if (positionals.length !== 2) {
  console.error('usage: node bench/exec-ab.mjs [--rounds N] [--per N] CHECKOUT_A CHECKOUT_B');
  process.exit(2);
}
const root = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..');
// Every command that changes the machine is blocked on all three, as in bench/run.mjs.
const { MACHINE_CHANGING_COMMANDS } = await import(path.join(root, 'dist/src/protocol/qga/commands.js'));
const BLOCK = MACHINE_CHANGING_COMMANDS.join(',');
const ROUNDS = Number(opt.rounds);
const PER = Number(opt.per);
const dir = mkdtempSync(path.join(os.tmpdir(), 'guestlink-exec-ab-'));
const children = [];
process.on('exit', () => {
  for (const c of children) c.kill();
  rmSync(dir, { recursive: true, force: true });
});

function start(name, file, args) {
  children.push(spawn(file, args, { stdio: 'ignore' }));
  return { name, sock: path.join(dir, `${name}.sock`) };
}
const qState = path.join(dir, 'qemu-ga-state');
mkdirSync(qState);
const agents = [
  start('qemu-ga', '/usr/sbin/qemu-ga', ['-m', 'unix-listen', '-p', path.join(dir, 'qemu-ga.sock'), '-t', qState, '-b', BLOCK]),
];
for (const [i, root] of positionals.entries()) {
  const name = `${'AB'[i]}:${path.basename(path.resolve(root))}`;
  const state = path.join(dir, `${i}-state`);
  mkdirSync(state);
  agents.push(
    start(name, process.execPath, [
      path.resolve(root, 'bin/guestlink-agent.js'),
      ...['-m', 'unix-listen', '-p', path.join(dir, `${name}.sock`), '-t', state, '-c', '/dev/null'],
      ...['--power', 'dry-run', '-b', BLOCK, '--allow-exec', '/bin/true'],
    ]),
  );
}

/** One connection, replies taken in order. */
async function client(sock) {
  for (let i = 0; ; i++) {
    try {
      const s = await new Promise((resolve, reject) => {
        const c = net.connect(sock);
        c.once('connect', () => resolve(c));
        c.once('error', reject);
      });
      const waiting = [];
      let buf = '';
      s.on('data', (d) => {
        buf += d;
        for (let n = buf.indexOf('\n'); n >= 0; n = buf.indexOf('\n')) {
          waiting.shift()?.(JSON.parse(buf.slice(0, n)));
          buf = buf.slice(n + 1);
        }
      });
      return (req) =>
        new Promise((resolve) => {
          waiting.push(resolve);
          s.write(`${JSON.stringify(req)}\n`);
        });
    } catch (err) {
      if (i > 400) throw err;
      await new Promise((r) => setTimeout(r, 25));
    }
  }
}

async function once(request, into) {
  const t0 = process.hrtime.bigint();
  const { pid } = (await request({ execute: 'guest-exec', arguments: { path: '/bin/true', 'capture-output': true } })).return;
  const t1 = process.hrtime.bigint();
  while (!(await request({ execute: 'guest-exec-status', arguments: { pid } })).return.exited) {}
  into.reply.push(Number(t1 - t0) / 1e6);
  into.total.push(Number(process.hrtime.bigint() - t0) / 1e6);
}

const requests = [];
for (const a of agents) requests.push(await client(a.sock));
const results = agents.map(() => ({ reply: [], total: [] }));
// Five unmeasured each: the first exec loads the addon and warms the paths.
for (const r of requests) for (let k = 0; k < 5; k++) await once(r, { reply: [], total: [] });
for (let round = 0; round < ROUNDS; round++)
  for (const [i, r] of requests.entries()) for (let k = 0; k < PER; k++) await once(r, results[i]);

const median = (a) => [...a].sort((x, y) => x - y)[Math.floor(a.length / 2)];
const base = median(results[0].total);
console.log(
  `load average ${os
    .loadavg()
    .map((l) => l.toFixed(2))
    .join(' ')}, ${os.cpus().length} cores`,
);
for (const [i, a] of agents.entries()) {
  const r = results[i];
  const total = median(r.total);
  console.log(
    `${a.name.padEnd(24)} n=${r.total.length}  guest-exec reply ${median(r.reply).toFixed(2)} ms  round trip ${total.toFixed(2)} ms (${(total / base).toFixed(2)}x qemu-ga)`,
  );
}
process.exit(0);
