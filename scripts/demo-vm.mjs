#!/usr/bin/env node
// The demo: boots a throwaway QEMU VM (TCG; the host root read-only over 9p, see test/e2e/vm/) with
// guestlink as its guest agent on a real virtio-serial port and a real power back end, then plays the
// host's side the way libvirt/Proxmox would: ping, info, OS info, IP addresses, reading an allowed file,
// and finally guest-shutdown, which really powers the VM off (QMP SHUTDOWN, QEMU exits).
// Builds first when dist/ is missing. Tears the VM down on any error and on Ctrl-C.
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
if (!existsSync(path.join(root, 'dist/test/e2e/vm/vm.js')) || !existsSync(path.join(root, 'dist/src/agent/main.js'))) {
  console.log('building (npx tsc -p .) ...');
  try {
    execFileSync('npx', ['tsc', '-p', '.'], { cwd: root, stdio: 'inherit' });
  } catch {
    // tsc emits even with type errors; the checks below decide whether we can go on.
  }
}
const { bootVm, vmUnavailableReason } = await import(path.join(root, 'dist/test/e2e/vm/vm.js'));
const { QmpClient } = await import(path.join(root, 'dist/test/e2e/vm/qmp.js'));

const why = vmUnavailableReason();
if (why) {
  console.error(`demo-vm: ${why}`);
  process.exit(1);
}

const bold = (s) => (process.stdout.isTTY ? `\x1b[1m${s}\x1b[0m` : s);
const ms = (x) => `${x.toFixed(x < 10 ? 1 : 0)} ms`;
const power = existsSync(path.join(root, 'build/Release/guestlink.node')) ? 'syscall' : 'openrc';
const FILE = '/etc/os-release';

let vm;
let interrupted = false;
let stopping = false;
async function teardown(code) {
  if (stopping) return;
  stopping = true;
  await vm?.stop().catch(() => {});
  process.exit(code);
}
// During the boot there is no VM handle yet: bootVm() cleans up itself when QEMU dies (a terminal's
// Ctrl-C reaches QEMU too), else the VM is stopped as soon as bootVm() returns.
process.on('SIGINT', () => {
  interrupted = true;
  console.log('\ninterrupted: stopping the VM');
  if (vm) void teardown(130);
});
process.on('SIGTERM', () => void teardown(143));

async function timed(conn, command, args) {
  const t0 = performance.now();
  const r = await conn.execute(command, args, 30_000);
  const t = performance.now() - t0;
  if (r.error) throw new Error(`${command}: ${r.error.class}: ${r.error.desc}`);
  return [r.return, t];
}

try {
  console.log(bold(`booting a TCG VM with guestlink inside (--power ${power}, --allow-file-read ${FILE}) ...`));
  vm = await bootVm({ agentArgs: ['--power', power, '--allow-file-read', FILE] });
  if (interrupted) await teardown(130);
  console.log(`agent ready ${(vm.bootToReadyMs / 1000).toFixed(1)} s after QEMU started (QEMU pid ${vm.pid}, chardev ${vm.qgaSocket})`);
  const conn = vm.firstConnection;

  const [, pingMs] = await timed(conn, 'guest-ping');
  console.log(`${bold('guest-ping')}                    {} in ${ms(pingMs)}`);

  const [info, infoMs] = await timed(conn, 'guest-info');
  const enabled = info.supported_commands.filter((c) => c.enabled).length;
  console.log(
    `${bold('guest-info')}                    version ${info.version}, ${info.supported_commands.length} commands (${enabled} enabled) in ${ms(infoMs)}`,
  );

  const [osinfo, osMs] = await timed(conn, 'guest-get-osinfo');
  console.log(
    `${bold('guest-get-osinfo')}              ${osinfo['pretty-name']}, kernel ${osinfo['kernel-release']} (${osinfo.machine}) in ${ms(osMs)}`,
  );

  const [ifs, ifMs] = await timed(conn, 'guest-network-get-interfaces');
  const ips = ifs.flatMap((i) => (i['ip-addresses'] ?? []).map((a) => `${i.name} ${a['ip-address']}/${a.prefix}`));
  console.log(`${bold('guest-network-get-interfaces')}  ${ips.join(', ')} in ${ms(ifMs)}`);

  const [handle] = await timed(conn, 'guest-file-open', { path: FILE, mode: 'r' });
  const [read, readMs] = await timed(conn, 'guest-file-read', { handle, count: 4096 });
  await timed(conn, 'guest-file-close', { handle });
  const text = Buffer.from(read['buf-b64'], 'base64').toString('utf8');
  console.log(`${bold('guest-file-read')} ${FILE}   ${read.count} bytes in ${ms(readMs)}:`);
  for (const line of text.split('\n').slice(0, 3)) console.log(`    ${line}`);

  const qmp = await QmpClient.connect(vm.qmpSocket);
  const t0 = performance.now();
  conn.lines.write('{"execute":"guest-shutdown","arguments":{"mode":"powerdown"}}\n');
  console.log(`${bold('guest-shutdown')} {"mode":"powerdown"} sent (no reply is expected)`);
  const ev = await qmp.waitEvent('SHUTDOWN', 60_000);
  const tEvent = performance.now() - t0;
  await qmp.close().catch(() => {});
  console.log(`QMP ${bold('SHUTDOWN')} ${JSON.stringify(ev.data)} after ${ms(tEvent)}; replies seen before it: ${conn.lines.pending()}`);
  const deadline = Date.now() + 10_000;
  while (vm.alive() && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
  if (vm.alive()) throw new Error('QEMU did not exit after SHUTDOWN');
  console.log(`QEMU exited ${ms(performance.now() - t0)} after the request`);
  await conn.close();
  await teardown(0);
} catch (err) {
  if (interrupted) await teardown(130);
  console.error(`demo-vm: ${err instanceof Error ? err.message : String(err)}`);
  await teardown(1);
}
