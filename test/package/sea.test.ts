// The single executable (scripts/build-sea.mjs): built here, then run. As the agent on a unix socket
// it must answer the differential suite's core cases byte for byte like the checkout's agent does
// (bin/guestlink-agent.js on the system Node); as the CLI it answers --version and ping. It must load
// its native addon from beside itself, and nothing from the checkout.
import assert from 'node:assert/strict';
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { copyFileSync, linkSync, mkdirSync, readFileSync, readlinkSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { makeTempDir, type Peer, RawClient, startGuestlink } from '../peer/harness.js';
import { pollUntil } from '../poll.js';
import {
  assertUsesOnlyItsDirectory,
  buildSea,
  CORE_CASES,
  type ListeningProcess,
  PACKAGE_VERSION,
  SEA_DIR,
  type SeaBuild,
  startListening,
  waitForSocket,
} from './build.js';

async function exchange(socket: string, bytes: Buffer, replies: number): Promise<Buffer> {
  const c = await RawClient.connect(socket);
  try {
    await c.writeAll([bytes]);
    return await c.collect({ replies, quietMs: 3000, timeoutMs: 10_000 });
  } finally {
    await c.close();
  }
}

function run(file: string, args: string[], opts: { argv0?: string } = {}): { code: number; stdout: string; stderr: string } {
  try {
    const stdout = execFileSync(file, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], cwd: '/', ...opts });
    return { code: 0, stdout, stderr: '' };
  } catch (err) {
    const e = err as { status: number; stdout: string; stderr: string };
    return { code: e.status, stdout: e.stdout, stderr: e.stderr };
  }
}

describe('the single executable', { timeout: 240_000 }, () => {
  let build: SeaBuild;
  let dir: string;
  let checkout: Peer | undefined;
  let sea: ListeningProcess | undefined;
  let seaSocket: string;

  before(async () => {
    build = await buildSea();
    dir = makeTempDir('guestlink-sea-');
    checkout = await startGuestlink(dir);
    seaSocket = path.join(dir, 's.sock');
    const statedir = path.join(dir, 'sst');
    mkdirSync(statedir);
    const argv = ['agent', '-m', 'unix-listen', '-p', seaSocket, '-t', statedir, '--power', 'dry-run', '-c', '/dev/null'];
    sea = await startListening(build.exe, argv, seaSocket, 15_000, { env: { PATH: '/usr/sbin:/usr/bin:/sbin:/bin' } });
  });
  after(async () => {
    await sea?.stop();
    await checkout?.stop();
  });

  test('is built into .tmp/package-sea with its addon, within CI time', () => {
    assert.equal(build.exe, path.join(SEA_DIR, 'guestlink'));
    assert.equal(build.addon, path.join(SEA_DIR, 'guestlink.node'));
    const st = statSync(build.exe);
    assert.ok(st.mode & 0o111, 'not executable');
    assert.equal(readFileSync(build.exe).subarray(0, 4).toString('latin1'), '\x7fELF');
    assert.equal(readlinkSync(path.join(SEA_DIR, 'guestlink-agent')), 'guestlink');
    const mib = st.size / 1048576;
    console.log(
      `# build: ${build.rebuilt ? 'rebuilt' : 'up to date'} in ${build.ms.toFixed(0)} ms ${JSON.stringify(build.times)}; ${mib.toFixed(1)} MiB`,
    );
  });

  test('the CLI answers --version; the agent answers --version by name and by subcommand', () => {
    assert.deepEqual(run(build.exe, ['--version']), { code: 0, stdout: `guestlink ${PACKAGE_VERSION}\n`, stderr: '' });
    assert.equal(run(path.join(SEA_DIR, 'guestlink-agent'), ['--version']).stdout, `guestlink-agent ${PACKAGE_VERSION}\n`);
    assert.equal(run(build.exe, ['agent', '--version']).stdout, `guestlink-agent ${PACKAGE_VERSION}\n`);
    const bad = run(build.exe, ['agent', '--no-such-flag']);
    assert.equal(bad.code, 1);
    assert.match(bad.stderr, /guestlink-agent: .*no-such-flag/);
  });

  test('starts with the flags the build gave it (execArgv), and V8 accepts the code caches trained under them', () => {
    // The SEA honours NODE_OPTIONS (execArgvExtension "env"): a preload reports what the executable sees.
    const probe = path.join(dir, 'exec-argv-probe.cjs');
    writeFileSync(probe, "process.stderr.write('execArgv=' + JSON.stringify(process.execArgv) + '\\n');\n");
    const r = spawnSync(build.exe, ['--version'], {
      cwd: '/',
      encoding: 'utf8',
      env: { PATH: '/usr/bin:/bin', NODE_OPTIONS: `--require ${probe}` },
    });
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stdout, `guestlink ${PACKAGE_VERSION}\n`);
    assert.deepEqual(JSON.parse(/^execArgv=(.*)$/m.exec(r.stderr)?.[1] ?? 'null'), build.execArgv);
    // The chunks' caches (the loader's message) and the loader's own (Node's warning) were made under the same flags.
    assert.doesNotMatch(r.stderr, /refused the code cache|Code cache data rejected/);
    assert.doesNotMatch(sea?.stderr() ?? '', /refused the code cache|Code cache data rejected/);
  });

  test('agent: a SIGUSR1 opens no inspector (--disable-sigusr1), and the agent keeps answering', async () => {
    // Without the flag a SIGUSR1 starts V8's inspector on 127.0.0.1:9229, open to every local user.
    assert.ok(build.execArgv.includes('--disable-sigusr1'), `the build's flags: ${build.execArgv.join(' ')}`);
    const pid = sea?.proc.pid;
    assert.ok(pid, 'the agent is not running');
    const caught = /^SigCgt:\s+([0-9a-f]+)$/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1];
    assert.ok(caught, 'no SigCgt in /proc/PID/status');
    assert.equal(BigInt(`0x${caught}`) & (1n << 9n), 0n, 'SIGUSR1 (10) has a handler: the inspector can be started');
    process.kill(pid, 'SIGUSR1');
    const reply = await exchange(seaSocket, Buffer.from('{"execute":"guest-ping"}\n'), 1);
    assert.match(reply.toString(), /"return"/);
    assert.equal(sea?.exited(), false);
    assert.doesNotMatch(sea?.stderr() ?? '', /Debugger listening/);
  });

  for (const c of CORE_CASES) {
    test(`agent: ${c.name} is answered byte for byte like the checkout's agent`, async () => {
      assert.ok(checkout);
      const [want, got] = await Promise.all([exchange(checkout.socket, c.send, c.replies), exchange(seaSocket, c.send, c.replies)]);
      assert.ok(want.length > 0, 'the checkout agent sent nothing');
      assert.equal(got.toString('latin1'), want.toString('latin1'));
      if (c.contains) assert.ok(got.toString('latin1').includes(c.contains), `no ${JSON.stringify(c.contains)} in the reply`);
    });
  }

  test('agent: guest-info reports the package version', async () => {
    const reply = JSON.parse((await exchange(seaSocket, Buffer.from('{"execute":"guest-info"}\n'), 1)).toString());
    assert.equal(reply.return.version, PACKAGE_VERSION);
    assert.ok(reply.return.supported_commands.length > 30);
  });

  test('agent: at start it loads none of the built-ins it defers to first use (docs/benchmarks.md, Rounds 2 and 4)', async () => {
    // A preload (NODE_OPTIONS) reports, on SIGUSR2, the modules loaded after it ran: the agent's, not Node's own start.
    const probe = path.join(dir, 'modules-probe.cjs');
    writeFileSync(
      probe,
      "const fs = require('fs'); const before = new Set(process.moduleLoadList);\n" +
        "process.on('SIGUSR2', () => fs.writeSync(2, 'modules=' + JSON.stringify(process.moduleLoadList.filter((m) => !before.has(m))) + '\\n'));\n",
    );
    const loaded = async (port: string[], ready: (stderr: string) => Promise<boolean>): Promise<string[]> => {
      const statedir = makeTempDir('guestlink-sea-modules-');
      const p = spawn(build.exe, ['agent', ...port, '-t', statedir, '--power', 'dry-run', '-c', '/dev/null'], {
        cwd: '/',
        stdio: ['ignore', 'ignore', 'pipe'],
        env: { PATH: '/usr/bin:/bin', NODE_OPTIONS: `--require ${probe}` },
      });
      let err = '';
      p.stderr.on('data', (d: Buffer) => {
        err += d.toString();
      });
      try {
        // Up to 15 s each, and not past the agent's exit; stderr says why when it fails.
        const until = async (what: () => boolean | Promise<boolean>, why: string) => {
          const done = await pollUntil(async () => p.exitCode !== null || (await what()), 15_000);
          assert.ok(done && p.exitCode === null, `${why}; stderr: ${err}`);
        };
        await until(() => ready(err), 'the agent did not get ready');
        process.kill(p.pid as number, 'SIGUSR2');
        await until(() => /^modules=/m.test(err), 'the probe did not report');
        return (JSON.parse(/^modules=(.*)$/m.exec(err)?.[1] ?? '[]') as string[]).map((m) => m.replace(/^NativeModule /, ''));
      } finally {
        p.kill('SIGKILL');
      }
    };
    // virtio-serial, what VMs run: a FIFO as the port; ready once it logged so.
    const fifo = path.join(dir, 'port.fifo');
    execFileSync('mkfifo', [fifo]);
    const virtio = await loaded(['-m', 'virtio-serial', '-p', fifo], async (e) => e.includes('guestlink agent ready'));
    // A unix socket, after its first reply. The agent listens and accepts through the addon (node:net's
    // server.listen() would bring cluster, dgram and child_process: transport/unix-accept.ts).
    const sock = path.join(dir, 'modules.sock');
    const unix = await loaded(['-m', 'unix-listen', '-p', sock], async (e) => {
      if (!e.includes('guestlink agent ready')) return false;
      return (await exchange(sock, Buffer.from('{"execute":"guest-sync","arguments":{"id":7}}\n'), 1)).toString().includes('"return": 7');
    });
    // The probe sees what the agent loads: os on both, net on the socket.
    assert.ok(virtio.includes('os') && unix.includes('os') && unix.includes('net'), `virtio: ${virtio}\nunix: ${unix}`);
    const deferred = ['crypto', 'worker_threads', 'assert', 'perf_hooks', 'fs/promises', 'internal/readline/interface'];
    for (const m of deferred) {
      assert.ok(!virtio.includes(m), `virtio-serial loaded ${m}: ${virtio}`);
      assert.ok(!unix.includes(m), `unix socket loaded ${m}: ${unix}`);
    }
    for (const m of ['net', 'tty', 'child_process', 'stream']) assert.ok(!virtio.includes(m), `virtio-serial loaded ${m}: ${virtio}`);
    for (const m of ['cluster', 'dgram', 'child_process']) assert.ok(!unix.includes(m), `unix socket loaded ${m}: ${unix}`);
  });

  test('agent: loads the addon from beside the executable and maps nothing else from the checkout', () => {
    assertUsesOnlyItsDirectory(sea?.proc.pid, SEA_DIR);
  });

  test('agent: installed as /usr/local/bin/guestlink, finds the addon in ../lib/guestlink/', async () => {
    const prefix = path.join(dir, 'usr-local');
    mkdirSync(path.join(prefix, 'bin'), { recursive: true });
    mkdirSync(path.join(prefix, 'lib/guestlink'), { recursive: true });
    const exe = path.join(prefix, 'bin/guestlink');
    // A hard link when the file system allows (the executable is ~100 MB), else a copy.
    try {
      linkSync(build.exe, exe);
    } catch {
      copyFileSync(build.exe, exe);
    }
    copyFileSync(path.join(SEA_DIR, 'guestlink.node'), path.join(prefix, 'lib/guestlink/guestlink.node'));
    const socket = path.join(dir, 'fhs.sock');
    const p = spawn(exe, ['agent', '-m', 'unix-listen', '-p', socket, '-t', dir, '--power', 'dry-run', '-c', '/dev/null'], {
      stdio: 'ignore',
    });
    let exited = false;
    p.once('exit', () => {
      exited = true;
    });
    try {
      await waitForSocket(socket, 15_000, () => !exited);
      assert.ok(readFileSync(`/proc/${p.pid}/maps`, 'utf8').includes(path.join(prefix, 'lib/guestlink/guestlink.node')));
    } finally {
      if (!exited) {
        const gone = new Promise((r) => p.once('exit', r));
        p.kill('SIGTERM');
        await gone;
      }
    }
  });

  test('the CLI pings the agent', () => {
    // `guestlink ping VM` where the CLI has that verb, else the generic `call VM guest-ping`.
    const help = run(build.exe, ['--help']).stdout;
    const args = /^\s+guestlink ping\b/m.test(help) ? ['ping', `unix:${seaSocket}`] : ['call', `unix:${seaSocket}`, 'guest-ping'];
    const r = run(build.exe, args);
    assert.equal(r.code, 0, `${args.join(' ')}: ${r.stderr}`);
    console.log(`# guestlink ${args.join(' ')} -> ${r.stdout.trim()}`);
    const dead = run(build.exe, [...args.slice(0, 1), `unix:${path.join(dir, 'nobody.sock')}`, ...args.slice(2)]);
    assert.equal(dead.code, 3, 'an unreachable agent is exit code 3');
  });
});
