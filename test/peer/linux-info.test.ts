// Differential test: the real qemu-ga 7.2 and our agent, side by side on unix sockets, answer the
// informational commands from the same host. Exact where the host state is the same for both;
// keys and types where counters move between the two calls.
import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { USER_PROCESS, utmpRecord } from '../../src/node/linux/utmp.js';
import { JsonStreamReader } from '../../src/protocol/qga/json-stream.js';
import { JsonFloat, type JsonObject, type JsonValue } from '../../src/protocol/qga/json-value.js';

const QEMU_GA = '/usr/sbin/qemu-ga';
const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
const AGENT = path.join(REPO, 'bin/guestlink-agent.js');
// Nothing here needs these; blocked so that a stray request can never act on this machine.
const BLOCKED = [
  'guest-shutdown',
  'guest-suspend-disk',
  'guest-suspend-ram',
  'guest-suspend-hybrid',
  'guest-fsfreeze-freeze',
  'guest-fsfreeze-freeze-list',
  'guest-fstrim',
  'guest-set-time',
  'guest-set-user-password',
  'guest-set-vcpus',
  'guest-set-memory-blocks',
  'guest-ssh-add-authorized-keys',
  'guest-ssh-remove-authorized-keys',
].join(',');

/** One connection that sends a command and resolves with the parsed reply line. */
class Client {
  private readonly pending: ((v: JsonValue) => void)[] = [];
  private readonly reader = new JsonStreamReader((ev) => {
    const resolve = this.pending.shift();
    if (resolve) resolve('value' in ev ? ev.value : { error: ev.error });
  });
  private constructor(private readonly sock: net.Socket) {
    sock.on('data', (b) => this.reader.feed(b));
  }

  static async connect(file: string, deadlineMs = 10000): Promise<Client> {
    const until = Date.now() + deadlineMs;
    for (;;) {
      try {
        const sock = await new Promise<net.Socket>((resolve, reject) => {
          const s = net.createConnection(file);
          s.once('connect', () => resolve(s));
          s.once('error', reject);
        });
        return new Client(sock);
      } catch (e) {
        if (Date.now() > until) throw e;
        await new Promise((r) => setTimeout(r, 50));
      }
    }
  }

  call(execute: string): Promise<JsonObject> {
    return new Promise((resolve) => {
      this.pending.push((v) => resolve(v as JsonObject));
      this.sock.write(`${JSON.stringify({ execute })}\n`);
    });
  }

  close(): void {
    this.sock.destroy();
  }
}

/** The reply's `return`, failing with the error when there is none. */
function ret(reply: JsonObject, who: string): JsonValue {
  assert.ok('return' in reply, `${who}: ${JSON.stringify(reply, (_k, v) => (typeof v === 'bigint' ? v.toString() : v))}`);
  return reply.return as JsonValue;
}

/** A JSON value's kind, for shape comparisons ("int" and "float" kept apart). */
function kind(v: JsonValue | undefined): string {
  if (v instanceof JsonFloat) return 'float';
  if (typeof v === 'bigint') return 'int';
  if (typeof v === 'number') return Number.isInteger(v) ? 'int' : 'float';
  if (Array.isArray(v)) return 'array';
  if (v === null) return 'null';
  return typeof v;
}

/** Keys and value kinds of an object, sorted. */
function shape(o: JsonValue | undefined): string[] {
  return Object.entries((o ?? {}) as JsonObject)
    .map(([k, v]) => `${k}:${kind(v)}`)
    .sort();
}

const skip = existsSync(QEMU_GA) ? false : `${QEMU_GA} is not installed (apt-get install qemu-guest-agent): peer comparison skipped`;

describe('qemu-ga 7.2 vs guestlink: node facts', { skip }, () => {
  let dir = '';
  const procs: ChildProcess[] = [];
  let qga: Client;
  let ours: Client;

  before(async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'gl-peer-info-'));
    mkdirSync(path.join(dir, 'qst'));
    mkdirSync(path.join(dir, 'gst'));
    const q = spawn(
      QEMU_GA,
      ['-m', 'unix-listen', '-p', path.join(dir, 'q.sock'), '-t', path.join(dir, 'qst'), '-f', path.join(dir, 'q.pid'), '-b', BLOCKED],
      {
        stdio: 'ignore',
      },
    );
    const g = spawn(
      process.execPath,
      [
        AGENT,
        '-m',
        'unix-listen',
        '-p',
        path.join(dir, 'g.sock'),
        '-t',
        path.join(dir, 'gst'),
        '--power',
        'dry-run',
        '--no-hide-virtual-interfaces',
        '-c',
        '/dev/null',
      ],
      { stdio: 'ignore' },
    );
    procs.push(q, g);
    [qga, ours] = await Promise.all([Client.connect(path.join(dir, 'q.sock')), Client.connect(path.join(dir, 'g.sock'))]);
  });

  after(() => {
    qga?.close();
    ours?.close();
    for (const p of procs) if (p.pid !== undefined && p.exitCode === null) process.kill(p.pid, 'SIGTERM');
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  const both = async (cmd: string) => {
    const [a, b] = await Promise.all([qga.call(cmd), ours.call(cmd)]);
    return { qemu: ret(a, `qemu-ga ${cmd}`), ours: ret(b, `guestlink ${cmd}`) };
  };

  for (const cmd of [
    'guest-get-osinfo',
    'guest-get-host-name',
    'guest-get-timezone',
    'guest-get-users',
    'guest-get-vcpus',
    'guest-get-memory-block-info',
  ]) {
    it(`${cmd}: identical`, async () => {
      const r = await both(cmd);
      assert.deepStrictEqual(r.ours, r.qemu);
    });
  }

  it('guest-get-memory-blocks: identical, in the same (readdir) order', async () => {
    const r = await both('guest-get-memory-blocks');
    assert.deepStrictEqual(r.ours, r.qemu);
  });

  it('guest-get-cpustats: same CPUs, members and kinds (counters move)', async () => {
    const r = await both('guest-get-cpustats');
    const q = r.qemu as JsonObject[];
    const o = r.ours as JsonObject[];
    assert.deepEqual(
      o.map((c) => c.cpu),
      q.map((c) => c.cpu),
    );
    assert.deepEqual(o.map(shape), q.map(shape));
    for (const c of o) assert.equal(c.type, 'linux');
  });

  it('guest-get-diskstats: same devices, numbers and stat names', async () => {
    const r = await both('guest-get-diskstats');
    const view = (l: JsonValue) =>
      (l as JsonObject[]).map((d) => ({ name: d.name, major: d.major, minor: d.minor, stats: shape(d.stats) }));
    assert.deepEqual(view(r.ours), view(r.qemu));
  });

  it('guest-network-get-interfaces: same names, MACs and addresses; statistics of the same shape', async () => {
    const r = await both('guest-network-get-interfaces');
    const view = (l: JsonValue) =>
      (l as JsonObject[]).map((i) => ({
        name: i.name,
        mac: i['hardware-address'],
        addresses: i['ip-addresses'],
        statistics: i.statistics === undefined ? undefined : shape(i.statistics),
      }));
    assert.deepStrictEqual(view(r.ours), view(r.qemu));
  });

  it('guest-get-load: ours answers (qemu-ga 7.2 does not have it)', async () => {
    const [a, b] = await Promise.all([qga.call('guest-get-load'), ours.call('guest-get-load')]);
    assert.equal((a.error as JsonObject | undefined)?.class, 'CommandNotFound');
    const load = ret(b, 'guestlink guest-get-load') as JsonObject;
    assert.deepEqual(Object.keys(load).sort(), ['load15m', 'load1m', 'load5m']);
    for (const v of Object.values(load)) assert.ok(['int', 'float'].includes(kind(v)) && Number(v instanceof JsonFloat ? v.value : v) >= 0);
  });
});

// guest-get-users needs logged-in users; this host has none. Both agents run in a private mount
// namespace (unshare -m) where a tmpfs hides the host's /run and holds a synthetic utmp: the host's
// own /run is never touched. Needs root and util-linux unshare.
const UNSHARE = '/usr/bin/unshare';
const nsSkip =
  skip || (process.getuid?.() !== 0 ? 'needs root for a private mount namespace' : !existsSync(UNSHARE) ? `${UNSHARE} is missing` : false);

describe('qemu-ga 7.2 vs guestlink: guest-get-users from a synthetic utmp', { skip: nsSkip }, () => {
  let dir = '';
  const procs: ChildProcess[] = [];
  const clients: Client[] = [];

  before(() => {
    dir = mkdtempSync(path.join(tmpdir(), 'gl-peer-users-'));
    mkdirSync(path.join(dir, 'qst'));
    mkdirSync(path.join(dir, 'gst'));
    writeFileSync(
      path.join(dir, 'utmp'),
      Buffer.concat([
        utmpRecord(2, 'reboot', 1700000000, 0),
        utmpRecord(USER_PROCESS, 'alice', 1700000500, 250000),
        utmpRecord(USER_PROCESS, 'bob', 1700000600, 1),
        utmpRecord(USER_PROCESS, 'alice', 1700000100, 123457),
        utmpRecord(8, 'carol', 1700000700, 0),
        utmpRecord(USER_PROCESS, 'root', 1763900000, 999999),
      ]),
    );
  });

  after(() => {
    for (const c of clients) c.close();
    for (const p of procs) if (p.pid !== undefined && p.exitCode === null) process.kill(p.pid, 'SIGTERM');
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  /** Starts argv inside its own mount namespace with the synthetic utmp; unshare and sh exec, so the PID is the agent's. */
  const inNamespace = (argv: string[]) => {
    const quoted = argv.map((a) => `'${a.replaceAll("'", "'\\''")}'`).join(' ');
    const script = `mount -t tmpfs tmpfs /run && cp '${path.join(dir, 'utmp')}' /run/utmp && exec ${quoted}`;
    const p = spawn(UNSHARE, ['-m', '--propagation', 'private', '/bin/sh', '-c', script], { stdio: 'ignore' });
    procs.push(p);
  };

  it('reports each user once with the earliest login time, identically', async () => {
    inNamespace([
      QEMU_GA,
      '-m',
      'unix-listen',
      '-p',
      path.join(dir, 'q.sock'),
      '-t',
      path.join(dir, 'qst'),
      '-f',
      path.join(dir, 'q.pid'),
      '-b',
      BLOCKED,
    ]);
    inNamespace([
      process.execPath,
      AGENT,
      '-m',
      'unix-listen',
      '-p',
      path.join(dir, 'g.sock'),
      '-t',
      path.join(dir, 'gst'),
      '--power',
      'dry-run',
      '-c',
      '/dev/null',
    ]);
    const [q, g] = await Promise.all([Client.connect(path.join(dir, 'q.sock')), Client.connect(path.join(dir, 'g.sock'))]);
    clients.push(q, g);
    const [a, b] = await Promise.all([q.call('guest-get-users'), g.call('guest-get-users')]);
    const qemu = ret(a, 'qemu-ga guest-get-users') as JsonObject[];
    assert.deepEqual(
      qemu.map((u) => u.user),
      ['alice', 'bob', 'root'],
    );
    assert.deepStrictEqual(ret(b, 'guestlink guest-get-users'), qemu);
  });
});
