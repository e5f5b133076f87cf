// Differential test: the real qemu-ga 7.2 and our agent, side by side on unix sockets, answer the
// informational commands from the same host. Exact where the host state is the same for both;
// keys and types where counters move between the two calls.
import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { QgaClient, QgaRemoteError } from '../../src/host/client.js';
import { USER_PROCESS, utmpRecord } from '../../src/node/linux/utmp.js';
import { JsonFloat, type JsonObject, type JsonValue } from '../../src/protocol/qga/json-value.js';
import { agentCommand, HAVE_QEMU_GA, type Peers, QEMU_BLOCK, QEMU_GA, startPeers } from './harness.js';

const BLOCKED = QEMU_BLOCK.join(',');

/** One connection over the host library's client; replies as objects, so both agents' errors show in asserts. */
class Client {
  private constructor(private readonly c: QgaClient) {}

  static async connect(file: string, deadlineMs = 10000): Promise<Client> {
    const until = Date.now() + deadlineMs;
    for (;;) {
      try {
        return new Client(await QgaClient.connectUnix(file));
      } catch (e) {
        if (Date.now() > until) throw e;
        await new Promise((r) => setTimeout(r, 50));
      }
    }
  }

  async call(execute: string): Promise<JsonObject> {
    try {
      return { return: await this.c.call(execute) };
    } catch (e) {
      if (e instanceof QgaRemoteError) return { error: { class: e.errorClass, desc: e.desc } };
      throw e;
    }
  }

  close(): void {
    this.c.close();
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

const skip = HAVE_QEMU_GA ? false : `${QEMU_GA} is not installed (apt-get install qemu-guest-agent): peer comparison skipped`;

describe('qemu-ga 7.2 vs guestlink: node facts', { skip }, () => {
  let peers: Peers;
  let qga: Client;
  let ours: Client;

  before(async () => {
    peers = await startPeers({ agentArgs: ['--no-hide-virtual-interfaces'] });
    [qga, ours] = await Promise.all([Client.connect(peers.qemu?.socket as string), Client.connect(peers.agent?.socket as string)]);
  });

  after(async () => {
    qga?.close();
    ours?.close();
    await peers?.stop();
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
    const agent = agentCommand([
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
    inNamespace([agent.file, ...agent.argv]);
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
