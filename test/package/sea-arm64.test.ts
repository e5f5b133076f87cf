// The arm64 single executable (scripts/build-sea.mjs --arch arm64) on this amd64 host, under
// qemu-aarch64-static (Debian's qemu-user-static, called by name: no binfmt_misc needed; the arm64
// glibc comes from the host's multiarch libc6:arm64). The CLI and the agent answer --version; the
// agent on a unix socket answers the differential cases (ping, info, osinfo, sync-delimited, errors)
// like the real qemu-ga 7.2 (amd64) on the same machine, compared as test/peer does: byte for byte
// where the bytes can agree, by shape where they cannot; it maps its arm64 addon from beside itself;
// and the arm64 Node of the same package loads that addon and calls its fs ioctls and readiness
// functions (test/package/addon-probe.ts). qemu-user 7.2 has no translation for FIFREEZE, FITHAW or
// FITRIM (it answers ENOSYS before the kernel sees them), so here those calls show the addon's error
// mapping; their real effect on arm64 is shown in the aarch64 VM (test/e2e/aarch64-vm.test.ts).
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { exchange, HAVE_QEMU_GA, makeTempDir, type Peer, QEMU_BLOCK, QEMU_GA, resync, showBytes, startQemuGa } from '../peer/harness.js';
import {
  type AgentCase,
  assertUsesOnlyItsDirectory,
  buildSea,
  CORE_CASES,
  type ListeningProcess,
  missingTools,
  PACKAGE_VERSION,
  REPO_ROOT,
  SEA_DIR_ARM64,
  type SeaBuild,
  seaNodeBinary,
  startListening,
} from './build.js';

const QEMU_USER = '/usr/bin/qemu-aarch64-static';
const ARM64_LOADER = '/lib/ld-linux-aarch64.so.1';
const skip =
  missingTools('qemu-aarch64-static', 'aarch64-linux-gnu-gcc') ??
  (existsSync(ARM64_LOADER)
    ? undefined
    : `no arm64 glibc at ${ARM64_LOADER} (dpkg --add-architecture arm64; apt-get install libstdc++6:arm64: scripts/apt-packages.txt)`) ??
  (HAVE_QEMU_GA ? undefined : `${QEMU_GA} is not installed (apt-get install qemu-guest-agent)`);
if (skip) console.log(`# arm64 executable tests skipped: ${skip}`);

/** Cases whose reply bytes must equal qemu-ga's: the core ones, and a command blocked on both. */
const SAME_BYTES: AgentCase[] = [
  ...CORE_CASES.filter((c) => c.sameAsQemuGa !== false),
  { name: 'a blocked command', send: Buffer.from('{"execute":"guest-fstrim"}\n'), replies: 1 },
];

describe('the arm64 executable under qemu-aarch64-static', { skip, timeout: 300_000 }, () => {
  let build: SeaBuild;
  let dir: string;
  let qemuGa: Peer | undefined;
  let agent: ListeningProcess | undefined;
  let socket: string;

  /** The same bytes to qemu-ga (parser resynchronised first) and to the arm64 agent, each on a fresh connection. */
  const both = async (send: Buffer, replies: number): Promise<[Buffer, Buffer]> => {
    assert.ok(qemuGa);
    await resync(qemuGa);
    const opts = { replies, quietMs: 3000, timeoutMs: 30_000 };
    return Promise.all([exchange(qemuGa.socket, [send], opts), exchange(socket, [send], opts)]);
  };

  before(async () => {
    build = await buildSea('arm64');
    dir = makeTempDir('guestlink-sea-arm64-');
    qemuGa = await startQemuGa(dir, ['-b', QEMU_BLOCK.join(',')]);
    socket = path.join(dir, 'arm64.sock');
    const statedir = path.join(dir, 'ast');
    mkdirSync(statedir);
    const argv = ['agent', '-m', 'unix-listen', '-p', socket, '-t', statedir, '--power', 'dry-run', '-c', '/dev/null'];
    const t0 = performance.now();
    agent = await startListening(QEMU_USER, [build.exe, ...argv, '-b', QEMU_BLOCK.join(',')], socket, 60_000, {
      env: { PATH: '/usr/sbin:/usr/bin:/sbin:/bin' },
    });
    console.log(`# arm64 agent under qemu-user listening after ${(performance.now() - t0).toFixed(0)} ms`);
  });
  after(async () => {
    await agent?.stop();
    await qemuGa?.stop();
  });

  test('is an AArch64 ELF built with its addon and a code cache made by the arm64 Node', () => {
    assert.equal(build.exe, path.join(SEA_DIR_ARM64, 'guestlink'));
    assert.equal(build.addon, path.join(SEA_DIR_ARM64, 'guestlink.node'));
    for (const f of [build.exe, build.addon ?? ''])
      assert.match(execFileSync('readelf', ['-h', f], { encoding: 'utf8' }), /Machine:\s+AArch64/, f);
    assert.equal(build.codeCache, true);
    const mib = readFileSync(build.exe).length / 1048576;
    console.log(
      `# arm64 build: ${build.rebuilt ? 'rebuilt' : 'up to date'} in ${build.ms.toFixed(0)} ms ${JSON.stringify(build.times)}; ${mib.toFixed(1)} MiB`,
    );
  });

  test('the CLI and the agent answer --version', () => {
    const run = (args: string[]) => execFileSync(QEMU_USER, [build.exe, ...args], { encoding: 'utf8', cwd: '/' });
    assert.equal(run(['--version']), `guestlink ${PACKAGE_VERSION}\n`);
    assert.equal(run(['agent', '--version']), `guestlink-agent ${PACKAGE_VERSION}\n`);
  });

  test('--vmware vsock or backdoor refuses to start and says why: VMware guest RPC is x86-only', () => {
    for (const mode of ['vsock', 'backdoor']) {
      const r = spawnSync(QEMU_USER, [build.exe, 'agent', '--vmware', mode, '-m', 'unix-listen', '-p', path.join(dir, `vm-${mode}.sock`)], {
        encoding: 'utf8',
        cwd: '/',
        timeout: 60_000,
      });
      assert.equal(r.status, 1, `--vmware ${mode}: exit ${r.status}, stderr ${r.stderr}`);
      assert.match(r.stderr, new RegExp(`--vmware ${mode}: VMware guest RPC is x86-only .*this is arm64.*use --vmware off`));
    }
  });

  for (const c of SAME_BYTES) {
    test(`agent: ${c.name}: the same bytes as qemu-ga`, async () => {
      const [q, g] = await both(c.send, c.replies);
      assert.equal(q.toString('latin1').split('\n').length - 1, c.replies, `qemu-ga sent ${showBytes(q)}`);
      assert.equal(showBytes(g), showBytes(q));
      if (c.contains) assert.ok(g.toString('latin1').includes(c.contains), `no ${JSON.stringify(c.contains)} in the reply`);
    });
  }

  test('agent: guest-info: same keys and key order as qemu-ga; every qemu-ga command present with the same success-response', async () => {
    const [q, g] = await both(Buffer.from('{"execute":"guest-info"}\n'), 1);
    const qi = JSON.parse(q.toString()).return;
    const gi = JSON.parse(g.toString()).return;
    assert.deepEqual(Object.keys(gi), Object.keys(qi));
    assert.equal(gi.version, PACKAGE_VERSION);
    const prefix = (r: Buffer) =>
      r
        .toString()
        .replace(/"version": "[^"]*"/, '"version": ""')
        .slice(0, 40);
    assert.equal(prefix(g), prefix(q));
    const ours = new Map<string, { enabled: boolean; 'success-response': boolean }>(
      gi.supported_commands.map((cmd: { name: string; enabled: boolean; 'success-response': boolean }) => [cmd.name, cmd]),
    );
    for (const cmd of qi.supported_commands) {
      const mine = ours.get(cmd.name);
      assert.ok(mine, `guestlink lacks ${cmd.name}`);
      assert.equal(mine['success-response'], cmd['success-response'], cmd.name);
      if (QEMU_BLOCK.includes(cmd.name)) assert.equal(mine.enabled, false, cmd.name);
    }
  });

  test("agent: guest-get-osinfo: identical to qemu-ga's but for machine, which qemu-user's uname(2) reports as aarch64", async () => {
    const [q, g] = await both(Buffer.from('{"execute":"guest-get-osinfo"}\n'), 1);
    const qo = JSON.parse(q.toString()).return;
    const go = JSON.parse(g.toString()).return;
    assert.equal(qo.machine, 'x86_64');
    assert.equal(go.machine, 'aarch64');
    // As test/peer/linux-info.test.ts compares it: as values (qemu-ga's member order is its hash table's).
    assert.deepStrictEqual({ ...go, machine: 'x86_64' }, qo);
  });

  test('agent: maps its arm64 addon from beside the executable, nothing else from the checkout', () => {
    // qemu-user maps the guest's files into its own address space: its maps list what the arm64 process loaded.
    assertUsesOnlyItsDirectory(agent?.proc.pid, SEA_DIR_ARM64);
  });

  test('the addon in the arm64 Node: fs ioctls called (ENOSYS from qemu-user), readiness on a FIFO, strerror, the clock', () => {
    assert.ok(build.addon);
    const fifo = path.join(dir, 'probe.fifo');
    execFileSync('mkfifo', [fifo]);
    const probe = path.join(REPO_ROOT, 'dist/test/package/addon-probe.js');
    const out = execFileSync(QEMU_USER, [seaNodeBinary('arm64'), probe, build.addon, fifo, dir], { encoding: 'utf8', timeout: 60_000 });
    const r = JSON.parse(out);
    assert.equal(r.arch, 'arm64');
    for (const fn of ['fsFreeze', 'fsThaw', 'fsTrim', 'fdWatch', 'fdUnwatch', 'fdRead', 'fdWrite', 'reboot', 'clockGetTime'])
      assert.ok(r.exports.includes(fn), `the arm64 addon lacks ${fn}`);
    // The VMware parts are x86-only: not compiled for arm64.
    for (const fn of ['hypervisorVendor', 'backdoorCall', 'backdoorAllowWithoutCpuid', 'iopl', 'vsockConnect'])
      assert.ok(!r.exports.includes(fn), `the arm64 addon exports ${fn}`);
    // Reached the ioctl(2) and came back as an errno-coded Error with strerror's text.
    for (const fn of ['fsFreeze', 'fsThaw', 'fsTrim'])
      assert.deepEqual(r[fn], { ok: false, code: 'ENOSYS', message: 'Function not implemented' }, fn);
    assert.equal(r.strerror2, 'No such file or directory');
    assert.ok(r.clockSkewMs < 60_000, `CLOCK_REALTIME is ${r.clockSkewMs} ms off Date.now()`);
    // The write woke the epoll watcher; the callback read the bytes, then EAGAIN (-11): the fd is non-blocking.
    assert.deepEqual(r.readiness, { bytes: 'hello-arm64', afterDrain: -11 });
  });
});
