// The cases of qemu's own tests/unit/test-qga.c that apply to a Linux agent on a unix socket,
// written anew for guestlink. Each runs against guestlink and, where cheap, against the real
// qemu-ga too, to show that the same expectation holds for both.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import {
  agentCommand,
  HAVE_QEMU_GA,
  makeTempDir,
  type Peer,
  QEMU_BLOCK,
  QEMU_GA,
  RawClient,
  startGuestlink,
  startQemuGa,
} from './harness.js';

/** One request, one reply, on a connection kept open by the caller. */
async function qmp(c: RawClient, request: string): Promise<{ raw: Buffer; reply: Record<string, any> }> {
  await c.write(`${request}\n`);
  const raw = await c.collect({ replies: 1, timeoutMs: 5000 });
  const text = raw[0] === 0xff ? raw.subarray(1).toString() : raw.toString();
  return { raw, reply: JSON.parse(text) };
}

function assertNoError(reply: Record<string, any>): void {
  assert.ok(!('error' in reply), `unexpected error: ${JSON.stringify(reply)}`);
  assert.ok('return' in reply);
}

function assertError(reply: Record<string, any>, cls: string, descPart?: RegExp): void {
  assert.equal(reply.error?.class, cls, JSON.stringify(reply));
  assert.equal(typeof reply.error.desc, 'string');
  assert.ok(reply.error.desc.length > 0);
  if (descPart) assert.match(reply.error.desc, descPart);
}

/** A key=value file as a map of group -> key -> value (GKeyFile's simple subset). */
function parseKeyFile(text: string): Map<string, Map<string, string>> {
  const groups = new Map<string, Map<string, string>>();
  let cur: Map<string, string> | undefined;
  for (const line of text.split('\n')) {
    const g = /^\[(.+)\]$/.exec(line);
    if (g) {
      cur = new Map();
      groups.set(g[1] as string, cur);
    } else if (cur && line.includes('=')) {
      const at = line.indexOf('=');
      cur.set(line.slice(0, at), line.slice(at + 1));
    }
  }
  return groups;
}

const random32 = () => Math.floor(Math.random() * 0xffffffff);

interface Target {
  name: string;
  start(dir: string, args: string[]): Promise<Peer>;
  skip: string | false;
}

const TARGETS: Target[] = [
  { name: 'guestlink', start: (dir, args) => startGuestlink(dir, args), skip: false },
  { name: 'qemu-ga', start: (dir, args) => startQemuGa(dir, args), skip: HAVE_QEMU_GA ? false : 'qemu-ga is not installed' },
];

for (const target of TARGETS) {
  describe(`test-qga.c cases against ${target.name}`, { skip: target.skip }, () => {
    let dir: string;
    let peer: Peer;
    let c: RawClient;
    before(async () => {
      dir = makeTempDir();
      peer = await target.start(dir, ['-b', QEMU_BLOCK.join(',')]);
      c = await RawClient.connect(peer.socket);
    });
    after(async () => {
      await c?.close();
      await peer?.stop();
      rmSync(dir, { recursive: true, force: true });
    });

    test('sync-delimited: 0xFF, then garbage is skipped up to the 0xFF of the reply', async () => {
      const r = random32();
      await c.write(Buffer.from([0xff]));
      await c.write(`{'execute': 'guest-sync-delimited', 'arguments': {'id': ${r} } }\n`);
      // The lone 0xFF earns a parse-error reply first (qemu's test says as much); then the delimited one.
      const raw = await c.collect({ replies: 2, timeoutMs: 5000 });
      const at = raw.indexOf(0xff);
      assert.ok(at >= 0, 'no 0xFF in the reply stream');
      const reply = JSON.parse(raw.subarray(at + 1).toString());
      assertNoError(reply);
      assert.equal(reply.return, r);
    });

    test('sync: echoes a random 32-bit id', async () => {
      const r = random32();
      const { reply } = await qmp(c, `{'execute': 'guest-sync', 'arguments': {'id': ${r} } }`);
      assertNoError(reply);
      assert.equal(reply.return, r);
    });

    test('ping', async () => {
      const { raw, reply } = await qmp(c, "{'execute': 'guest-ping'}");
      assertNoError(reply);
      assert.equal(raw.toString(), '{"return": {}}\n');
    });

    test('info: a version string and a command list', async () => {
      const { reply } = await qmp(c, "{'execute': 'guest-info'}");
      assertNoError(reply);
      assert.equal(typeof reply.return.version, 'string');
      assert.ok(reply.return.version.length > 0);
      assert.ok(reply.return.supported_commands.some((x: { name: string }) => x.name === 'guest-ping'));
    });

    test('id: echoed', async () => {
      const { reply } = await qmp(c, "{'execute': 'guest-ping', 'id': 1}");
      assertNoError(reply);
      assert.equal(reply.id, 1);
    });

    test('invalid-oob: exec-oob is a GenericError', async () => {
      const { reply } = await qmp(c, "{'exec-oob': 'guest-ping'}");
      assertError(reply, 'GenericError');
    });

    test("invalid-args: Parameter 'foo' is unexpected", async () => {
      const { reply } = await qmp(c, "{'execute': 'guest-ping', 'arguments': {'foo': 42 }}");
      assertError(reply, 'GenericError');
      assert.equal(reply.error.desc, "Parameter 'foo' is unexpected");
    });

    test('invalid-cmd: CommandNotFound', async () => {
      const { reply } = await qmp(c, "{'execute': 'guest-invalid-cmd'}");
      assertError(reply, 'CommandNotFound');
    });

    test('get-time: nanoseconds since the epoch, close to now, exact as an integer', async () => {
      const before = BigInt(Date.now()) * 1_000_000n;
      const { raw, reply } = await qmp(c, "{'execute': 'guest-get-time'}");
      const after = BigInt(Date.now()) * 1_000_000n;
      assertNoError(reply);
      const m = /^\{"return": (\d+)\}\n$/.exec(raw.toString());
      assert.ok(m, raw.toString());
      const t = BigInt(m[1] as string);
      assert.ok(t > 0n);
      // Within a second of the test's own clock (both read the same system clock).
      assert.ok(t >= before - 1_000_000_000n && t <= after + 1_000_000_000n, `${t} not within [${before}, ${after}]`);
    });

    test('fsfreeze-status: thawed', async () => {
      const { raw, reply } = await qmp(c, "{'execute': 'guest-fsfreeze-status'}");
      assertNoError(reply);
      assert.equal(raw.toString(), '{"return": "thawed"}\n');
    });

    test('get-host-name: has host-name', async () => {
      const { reply } = await qmp(c, "{'execute': 'guest-get-host-name'}");
      assertNoError(reply);
      assert.equal(typeof reply.return['host-name'], 'string');
      assert.ok(reply.return['host-name'].length > 0);
    });

    test('get-timezone: has at least offset', async () => {
      const { reply } = await qmp(c, "{'execute': 'guest-get-timezone'}");
      assertNoError(reply);
      assert.equal(typeof reply.return.offset, 'number');
    });

    test('get-users: a list', async () => {
      const { reply } = await qmp(c, "{'execute': 'guest-get-users'}");
      assertNoError(reply);
      assert.ok(Array.isArray(reply.return));
    });

    test('get-osinfo from this machine: id and pretty-name as in os-release', async () => {
      const { reply } = await qmp(c, "{'execute': 'guest-get-osinfo'}");
      assertNoError(reply);
      const osr = readFileSync('/etc/os-release', 'utf8');
      const id = /^ID=(.*)$/m.exec(osr)?.[1]?.replace(/^"|"$/g, '');
      assert.equal(reply.return.id, id);
      assert.equal(typeof reply.return['kernel-release'], 'string');
    });

    test('blockedrpcs: -b guest-ping,guest-get-time disables exactly those', async () => {
      const sub = makeTempDir();
      const blocked = await target.start(sub, ['-b', 'guest-ping,guest-get-time']);
      const bc = await RawClient.connect(blocked.socket);
      try {
        for (const name of ['guest-ping', 'guest-get-time']) {
          const { reply } = await qmp(bc, `{'execute': '${name}'}`);
          assertError(reply, 'CommandNotFound', /has been disabled/);
        }
        const { reply } = await qmp(bc, "{'execute': 'guest-get-fsinfo'}");
        assertNoError(reply);
      } finally {
        await bc.close();
        await blocked.stop();
        rmSync(sub, { recursive: true, force: true });
      }
    });
  });
}

describe('test-qga.c cases that qemu-ga 7.2 cannot run here', () => {
  test('allowedrpcs (guestlink; qemu-ga gained -a only in 8.0): -a guest-ping,guest-get-time', async () => {
    const dir = makeTempDir();
    const peer = await startGuestlink(dir, ['-a', 'guest-ping,guest-get-time']);
    const c = await RawClient.connect(peer.socket);
    try {
      assertNoError((await qmp(c, "{'execute': 'guest-ping'}")).reply);
      assertNoError((await qmp(c, "{'execute': 'guest-get-time'}")).reply);
      assertError((await qmp(c, "{'execute': 'guest-get-fsinfo'}")).reply, 'CommandNotFound', /has been disabled/);
    } finally {
      await c.close();
      await peer.stop();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('get-osinfo from a test os-release file (QGA_OS_RELEASE), both agents', async (t) => {
    if (!HAVE_QEMU_GA) return t.skip('qemu-ga is not installed');
    const dir = makeTempDir();
    const osRelease = path.join(dir, 'os-release');
    // The content of qemu's tests/data/test-qga-os-release, escaped quotes and all (written here anew).
    writeFileSync(
      osRelease,
      'ID=qemu-ga-test\nNAME=QEMU-GA\nPRETTY_NAME="QEMU Guest Agent test"\nVERSION="Test 1"\nVERSION_ID=1\n' +
        'VARIANT="Unit test \\"\\\'\\$\\`\\\\ and \\\\\\\\ etc."\nVARIANT_ID=unit-test\n',
    );
    const prev = process.env.QGA_OS_RELEASE;
    process.env.QGA_OS_RELEASE = osRelease;
    const peers: Peer[] = [];
    try {
      peers.push(await startQemuGa(dir));
      peers.push(await startGuestlink(dir, [], { QGA_OS_RELEASE: osRelease }));
    } finally {
      if (prev === undefined) delete process.env.QGA_OS_RELEASE;
      else process.env.QGA_OS_RELEASE = prev;
    }
    try {
      for (const peer of peers) {
        const out = await peer.send(['{"execute":"guest-get-osinfo"}\n'], { replies: 1 });
        const r = JSON.parse(out.toString()).return;
        assert.equal(r.id, 'qemu-ga-test', peer.name);
        assert.equal(r.name, 'QEMU-GA');
        assert.equal(r['pretty-name'], 'QEMU Guest Agent test');
        assert.equal(r.version, 'Test 1');
        assert.equal(r['version-id'], '1');
        assert.equal(r.variant, 'Unit test "\'$`\\ and \\\\ etc.');
        assert.equal(r['variant-id'], 'unit-test');
      }
    } finally {
      for (const peer of peers) await peer.stop();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('config: -c key file and -D dump; the dump reads back via -c and gives the same dump', (t) => {
    const dir = makeTempDir();
    try {
      const conf = path.join(dir, 'test-qga-config');
      writeFileSync(
        conf,
        '[general]\ndaemon=false\nmethod=virtio-serial\npath=/path/to/org.qemu.guest_agent.0\n' +
          'pidfile=/var/foo/qemu-ga.pid\nstatedir=/var/state\nverbose=true\nblock-rpcs=guest-ping;guest-get-time\n',
      );
      const env = { ...process.env };
      for (const k of Object.keys(env)) if (k.startsWith('GUESTLINK_')) delete env[k];
      const dump = (file: string) => {
        const { file: cmd, argv } = agentCommand(['-c', file, '-D']);
        return spawnSync(cmd, argv, { env, encoding: 'utf8' });
      };
      const dump1 = dump(conf);
      assert.equal(dump1.status, 0, dump1.stderr);
      assert.equal(dump1.stderr, '');
      const kf = parseKeyFile(dump1.stdout);
      assert.equal(dump1.stdout.split('\n')[0], '[general]');
      const general = kf.get('general') as Map<string, string>;
      assert.equal(general.get('daemon'), 'false');
      assert.equal(general.get('method'), 'virtio-serial');
      assert.equal(general.get('path'), '/path/to/org.qemu.guest_agent.0');
      assert.equal(general.get('pidfile'), '/var/foo/qemu-ga.pid');
      assert.equal(general.get('statedir'), '/var/state');
      assert.equal(general.get('verbose'), 'true');
      const blocked = (general.get('block-rpcs') ?? '').split(';').filter(Boolean);
      assert.deepEqual(blocked.sort(), ['guest-get-time', 'guest-ping']);

      const dumped = path.join(dir, 'dumped.conf');
      writeFileSync(dumped, dump1.stdout);
      const dump2 = dump(dumped);
      assert.equal(dump2.status, 0, dump2.stderr);
      assert.equal(dump2.stdout, dump1.stdout);

      // qemu-ga 7.2 reads the same file through QGA_CONF: its [general] group says the same.
      if (!HAVE_QEMU_GA) return t.skip(`${QEMU_GA} is not installed: the dump was not compared with qemu-ga's`);
      const q = spawnSync(QEMU_GA, ['-D'], { env: { ...env, QGA_CONF: conf }, encoding: 'utf8' });
      assert.equal(q.status, 0, q.stderr);
      const qg = parseKeyFile(q.stdout).get('general') as Map<string, string>;
      for (const [k, v] of qg) assert.equal(general.get(k), v, `[general] ${k}`);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
