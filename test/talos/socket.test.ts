// The real agent with --node-backend talos on a machined-socket double (system-extension mode),
// driven over QGA as a hypervisor would: power requests reach Talos as Shutdown/Reboot with the
// right fields and role; host name, OS, network, filesystems and load come from the API.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { TalosApiDouble } from '../doubles/talos-api.js';
import { makeTempDir, type Peer, startGuestlink } from '../peer/harness.js';
import { fillFixtures, plain, qga, show, until } from './helpers.js';

describe('Talos back end over the machined socket (double)', () => {
  let dir: string;
  let double: TalosApiDouble;
  let agent: Peer;

  before(async () => {
    dir = makeTempDir('guestlink-talos-');
    double = await TalosApiDouble.start({ kind: 'unix', path: path.join(dir, 'machine.sock') });
    fillFixtures(double);
    // --power auto overrides the harness's dry-run: on Talos the request must reach the (double's) API.
    agent = await startGuestlink(dir, ['--node-backend', 'talos', '--talos-socket', path.join(dir, 'machine.sock'), '--power', 'auto']);
  });
  after(async () => {
    await agent?.stop();
    await double?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  const shutdownCases = [
    { mode: 'powerdown', call: 'Shutdown', request: { force: false } },
    { mode: 'halt', call: 'Shutdown', request: { force: false } },
    { mode: 'reboot', call: 'Reboot', request: { mode: 'DEFAULT' } },
  ] as const;
  for (const c of shutdownCases) {
    test(`guest-shutdown ${c.mode} reaches Talos as ${c.call} ${show(c.request)} with role os:operator`, async () => {
      const before = double.callsTo(c.call).length;
      // Success is silence: an error reply would come back as { error }.
      const reply = await qga(agent.socket, 'guest-shutdown', { mode: c.mode }, 1500);
      assert.deepEqual(reply, { return: null }, agent.stderr());
      await until(() => double.callsTo(c.call).length > before, 2000, `${c.call} at the double`);
      const got = double.callsTo(c.call).at(-1);
      assert.deepEqual(got?.request, c.request);
      assert.equal(got?.talosRole, 'os:operator');
    });
  }

  test('guest-get-host-name comes from HostnameStatus', async () => {
    assert.deepEqual(plain(await qga(agent.socket, 'guest-get-host-name')), { return: { 'host-name': 'talos-cp-1' } });
  });

  test('guest-get-osinfo names Talos and its version; the kernel is the shared one (uname)', async () => {
    const r = await qga(agent.socket, 'guest-get-osinfo');
    assert.ok('return' in r, show(r));
    const o = r.return as Record<string, unknown>;
    assert.equal(o.id, 'talos');
    assert.equal(o.name, 'Talos');
    assert.equal(o['pretty-name'], 'Talos (v1.14.0)');
    assert.equal(o['version-id'], 'v1.14.0');
    assert.equal(o['kernel-release'], os.release());
    assert.equal(o.machine, os.machine());
  });

  test('guest-network-get-interfaces: physical NICs first, CNI/tunnel links hidden, MACs lower-case', async () => {
    const r = await qga(agent.socket, 'guest-network-get-interfaces');
    assert.ok('return' in r, show(r));
    const list = r.return as {
      name: string;
      'hardware-address'?: string;
      'ip-addresses'?: { 'ip-address': string; prefix: bigint | number }[];
    }[];
    assert.deepEqual(
      list.map((i) => i.name),
      ['eth0', 'eth1', 'lo', 'bond0'],
    );
    const eth0 = list[0];
    assert.equal(eth0?.['hardware-address'], 'bc:24:11:5a:3b:01');
    assert.deepEqual(
      eth0?.['ip-addresses']?.map((a) => `${a['ip-address']}/${a.prefix}`),
      ['192.168.122.51/24', 'fe80::be24:11ff:fe5a:3b01/64'],
    );
    assert.deepEqual(
      list[3]?.['ip-addresses']?.map((a) => a['ip-address']),
      ['10.0.13.5'],
    );
  });

  test('guest-get-fsinfo lists block-device mounts from Mounts with types from MountStatus, pod mounts left out', async () => {
    const r = await qga(agent.socket, 'guest-get-fsinfo');
    assert.ok('return' in r, show(r));
    const list = r.return as { name: string; mountpoint: string; type: string; 'total-bytes'?: unknown; 'used-bytes'?: unknown }[];
    assert.deepEqual(
      list.map((f) => [f.name, f.mountpoint, f.type]),
      [
        ['loop0', '/', 'squashfs'],
        ['sda5', '/system/state', 'xfs'],
        ['sda6', '/var', 'xfs'],
      ],
    );
    assert.equal(BigInt(list[2]?.['total-bytes'] as number), 42949672960n);
    assert.equal(BigInt(list[2]?.['used-bytes'] as number), 42949672960n - 30064771072n);
  });

  test('guest-get-load comes from LoadAvg', async () => {
    const r = await qga(agent.socket, 'guest-get-load');
    assert.ok('return' in r, show(r));
    assert.deepEqual(plain(r.return), { load1m: 0.25, load5m: 0.5, load15m: 1.5 });
  });

  test('guest-suspend-ram and guest-fsfreeze-freeze are disabled on Talos, with the QGA error', async () => {
    const s = await qga(agent.socket, 'guest-suspend-ram', undefined, 1500);
    assert.ok('error' in s && s.error.class === 'CommandNotFound' && /disabled/.test(s.error.desc), show(s));
    const f = await qga(agent.socket, 'guest-fsfreeze-freeze');
    assert.ok('error' in f && f.error.class === 'CommandNotFound', show(f));
  });

  test('every call claimed only os:operator on the socket', () => {
    assert.ok(double.calls.length > 0);
    assert.deepEqual([...new Set(double.calls.map((c) => c.talosRole))], ['os:operator']);
  });
});

describe('Talos back end when the API cannot answer', () => {
  // Each test starts its own agent; the never-answering double is made here, so any test runs alone.
  let dir: string;
  const peers: Peer[] = [];
  let slow: TalosApiDouble;
  before(async () => {
    dir = makeTempDir('guestlink-talos-');
    slow = await TalosApiDouble.start({ kind: 'unix', path: path.join(dir, 'slow.sock') });
    fillFixtures(slow);
    // Far beyond any test's wait: a reply at all means the agent gave up at its own deadline.
    slow.state.delayMs.Reboot = 3_600_000;
  });
  after(async () => {
    for (const p of peers) await p.stop();
    await slow?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  /** An agent of its own on the Talos back end through `socket` (a file in dir), with --power auto and `args`. */
  async function talosAgent(socket: string, args: readonly string[]): Promise<Peer> {
    const agent = await startGuestlink(mkdtempSync(path.join(dir, 'agent-')), [
      '--node-backend',
      'talos',
      '--talos-socket',
      path.join(dir, socket),
      ...args,
      '--power',
      'auto',
    ]);
    peers.push(agent);
    return agent;
  }

  test('no socket: guest-shutdown and guest-get-host-name get a GenericError once --talos-timeout has passed', async () => {
    const agent = await talosAgent('absent.sock', ['--talos-timeout', '2']);
    for (const [cmd, args] of [
      ['guest-shutdown', { mode: 'powerdown' }],
      ['guest-get-host-name', undefined],
    ] as const) {
      const r = await qga(agent.socket, cmd, args, 30_000);
      assert.ok('error' in r && r.error.class === 'GenericError', show(r));
      // The agent says how long it tried: until its 2 s deadline, not less (a retry loop, not one refusal).
      const m = /Talos API at unix:.*absent\.sock unreachable for \w+ \((\d+) attempts? in (\d+\.\d) s\)/.exec(r.error.desc);
      assert.ok(m, r.error.desc);
      assert.ok(Number(m[1]) > 1, `retried: ${r.error.desc}`);
      assert.ok(Number(m[2]) >= 1.9, `tried until the deadline: ${r.error.desc}`);
    }
  });

  test('an API that accepts but never answers: GenericError at the deadline, not a hang', async () => {
    const agent = await talosAgent('slow.sock', ['--talos-timeout', '1']);
    const before = slow.callsTo('Reboot').length;
    // The double would answer in an hour; the reply comes from the agent's own 1 s deadline.
    const r = await qga(agent.socket, 'guest-shutdown', { mode: 'reboot' }, 30_000);
    assert.ok('error' in r && r.error.class === 'GenericError', show(r));
    const m = /unreachable for Reboot \(1 attempt in (\d+\.\d) s\).*Deadline exceeded/i.exec(r.error.desc);
    assert.ok(m && Number(m[1]) >= 0.9, `gave up at the deadline, not before: ${r.error.desc}`);
    assert.equal(slow.callsTo('Reboot').length, before + 1, 'a Reboot that may have been accepted is not sent twice');
  });

  test('os:reader on the socket: PermissionDenied becomes a GenericError that names the role needed', async () => {
    const agent = await talosAgent('slow.sock', ['--talos-role', 'os:reader']);
    const r = await qga(agent.socket, 'guest-shutdown', { mode: 'powerdown' }, 3000);
    assert.ok('error' in r && r.error.class === 'GenericError', show(r));
    assert.match(r.error.desc, /Talos API refused Shutdown: not authorized; the credentials need role os:operator or os:admin/);
    assert.match(agent.stderr(), /Talos will refuse guest-shutdown/);
  });
});
