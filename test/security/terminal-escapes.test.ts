// A malicious guest puts terminal escape sequences into everything the CLI prints: OS name, interface
// names, mount points, its version, error descriptions, a kubeconfig path in an error. Tables, YAML
// and error lines show them escaped; JSON gives back the exact strings (as \uXXXX escapes); nothing
// raw reaches the terminal — except `exec`'s own output, which passes through as bytes, like ssh.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import YAML from 'yaml';
import { runCli } from '../cli/run-cli.js';
import { type HostileGuest, startHostileGuest } from './hostile-guest.js';

// OSC 0 (set the window title), CSI 2J (clear the screen) as ESC [ and as the one-byte C1 CSI, DEL,
// a bidi override, a newline that would start a forged line.
const EVIL = 'Debian\x1b]0;owned\x07\x1b[2J\u009b2J\x7f\u202eX\nguestlink: all good';
/** Raw control characters (C0 but \n, DEL, C1, bidi controls) in bytes the terminal would get. */
const RAW = /[\x00-\x09\x0b-\x1f\x7f\u0080-\u009f\u202a-\u202e\u2066-\u2069]/;

describe('guest text on the terminal', () => {
  let g: HostileGuest;
  let g2: HostileGuest;
  before(async () => {
    const handlers = {
      'guest-get-osinfo': (_a: unknown, r: { ok(v: unknown): void }) => r.ok({ name: EVIL, 'kernel-release': EVIL }),
      'guest-network-get-interfaces': (_a: unknown, r: { ok(v: unknown): void }) =>
        r.ok([{ name: EVIL, 'hardware-address': EVIL, 'ip-addresses': [{ 'ip-address-type': 'ipv4', 'ip-address': EVIL, prefix: 24 }] }]),
      'guest-get-fsinfo': (_a: unknown, r: { ok(v: unknown): void }) => r.ok([{ mountpoint: EVIL, type: EVIL, name: EVIL, disk: [] }]),
      'guest-get-time': (_a: unknown, r: { error(d: string): void }) => r.error(EVIL),
      'guest-exec': (_a: unknown, r: { ok(v: unknown): void }) => r.ok({ pid: 3 }),
      'guest-exec-status': (_a: unknown, r: { ok(v: unknown): void }) =>
        r.ok({ exited: true, exitcode: 0, 'out-data': Buffer.from(`${EVIL}\n`).toString('base64') }),
    };
    g = await startHostileGuest(handlers, { version: EVIL });
    g2 = await startHostileGuest(handlers, { version: EVIL });
  });
  after(async () => {
    await g?.stop();
    await g2?.stop();
  });

  for (const verb of ['osinfo', 'ips', 'fsinfo', 'info'] as const) {
    test(`${verb}: table and yaml escaped, json exact`, async () => {
      const t = await runCli([verb, g.address]);
      assert.equal(t.status, 0, t.stderr);
      assert.doesNotMatch(t.stdout, RAW, 'table');
      assert.match(t.stdout, /Debian\\x1b\]0;owned\\x07\\x1b\[2J\\x9b2J\\x7f\\u202eX\\nguestlink: all good/);
      const y = await runCli([verb, g.address, '-o', 'yaml']);
      assert.doesNotMatch(y.stdout, RAW, 'yaml');
      const j = await runCli([verb, g.address, '-o', 'json']);
      assert.doesNotMatch(j.stdout, RAW, 'json');
      if (verb === 'osinfo') {
        assert.equal(YAML.parse(y.stdout).name, EVIL, 'yaml keeps the value');
        assert.equal(JSON.parse(j.stdout).name, EVIL, 'json keeps the value');
      }
      if (verb === 'ips') assert.equal(JSON.parse(j.stdout)[0].name, EVIL);
    });
  }

  test("the agent's error text is escaped on stderr (one line: the forged second line stays in it)", async () => {
    const r = await runCli(['time', g.address]);
    assert.equal(r.status, 1);
    assert.doesNotMatch(r.stderr, RAW);
    assert.equal(r.stderr.split('\n').filter(Boolean).length, 1, r.stderr);
    assert.match(r.stderr, /GenericError: Debian\\x1b\]0;owned/);
  });

  test('fleet: the summary table and the exec lines are escaped; json exact', async () => {
    const t = await runCli(['osinfo', g.address, g2.address]);
    assert.equal(t.status, 0, t.stderr);
    assert.doesNotMatch(t.stdout, RAW);
    const f = await runCli(['time', g.address, g2.address]);
    assert.equal(f.status, 4);
    assert.doesNotMatch(f.stdout, RAW);
    const fj = await runCli(['time', g.address, g2.address, '-o', 'json']);
    assert.doesNotMatch(fj.stdout, RAW);
    assert.equal(JSON.parse(fj.stdout).results[0].error, `the agent answered GenericError: ${EVIL}`);
    const e = await runCli(['exec', g.address, g2.address, '--', '/bin/cat', '/etc/os-release']);
    assert.doesNotMatch(e.stdout, RAW);
    assert.match(e.stdout, /^\[unix:.*\] Debian\\x1b/m);
  });

  test('exec on one VM passes the program output through as bytes, like ssh (documented in docs/cli.md)', async () => {
    const r = await runCli(['exec', g.address, '--', '/bin/cat', '/etc/os-release']);
    assert.equal(r.status, 0, r.stderr);
    assert.ok(r.raw.equals(Buffer.from(`${EVIL}\n`)), 'byte for byte');
  });
});
