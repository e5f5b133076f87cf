// What `guestlink cloud-init` renders, checked by Debian's cloud-init (22.4): `cloud-init schema
// --config-file` for user-data, and — because 22.4's schema command has no network-config mode —
// `cloud-init devel net-convert`, which parses network-config v2 with cloud-init's own parser and
// renders it for systemd-networkd (Debian), ENI (Alpine, KubeSolo's usual base) and netplan (Ubuntu).
// Each check also runs once on broken input, to show the tool does refuse bad data.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { PassThrough } from 'node:stream';
import { after, describe, it } from 'node:test';
import { cloudInitVerb } from '../../src/cli/cloud-init.js';

const HAVE_CLOUD_INIT = spawnSync('sh', ['-c', 'command -v cloud-init']).status === 0;
const KEY = 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIEhhXvwn0kU0wiQ4F3SszOabclPtriJtP3yRzNI1uwcT me@host';
const HASH = '$6$aizw.7Egmc/Bv23M$bLtuzJY1RyHKyO7OZAIQCzFLl/2DvDUpLw9/GNVbsA0RmAHeKA3KIG6FqMBTwV0VkOYqmY9RjxE5x9ihU.zoG0';

const dir = mkdtempSync(path.join(os.tmpdir(), 'guestlink-ci-'));
after(() => rmSync(dir, { recursive: true, force: true }));

async function render(name: string, args: string[], env: Record<string, string> = {}): Promise<string> {
  const out = path.join(dir, name);
  const stderr = new PassThrough();
  let err = '';
  stderr.on('data', (c) => (err += c));
  const code = await cloudInitVerb([...args, '--out-dir', out], { stdout: new PassThrough(), stderr, env });
  assert.equal(code, 0, err);
  return out;
}

function schema(file: string) {
  const r = spawnSync('cloud-init', ['schema', '--config-file', file], { encoding: 'utf8', timeout: 60_000 });
  return { status: r.status, out: `${r.stdout}${r.stderr}` };
}

function netConvert(file: string, distro: string, kind: string) {
  const out = mkdtempSync(path.join(dir, 'net-'));
  const r = spawnSync('cloud-init', ['devel', 'net-convert', '-p', file, '-k', 'yaml', '-d', out, '-D', distro, '-O', kind], {
    encoding: 'utf8',
    timeout: 60_000,
  });
  const files = (d: string): string[] =>
    readdirSync(d).flatMap((n) => (statSync(path.join(d, n)).isDirectory() ? files(path.join(d, n)) : [path.join(d, n)]));
  const text =
    r.status === 0
      ? files(out)
          .map((f) => readFileSync(f, 'utf8'))
          .join('\n')
      : '';
  return { status: r.status, out: `${r.stdout}${r.stderr}`, text };
}

describe('cloud-init 22.4 accepts what guestlink renders', { skip: HAVE_CLOUD_INIT ? false : 'cloud-init not installed' }, () => {
  it('user-data: hostname only', async () => {
    const out = await render('minimal', ['--hostname', 'node1']);
    const r = schema(path.join(out, 'user-data'));
    assert.equal(r.status, 0, r.out);
    assert.match(r.out, /Valid cloud-config/);
  });

  it('user-data: user with hash and key, packages, KubeSolo with every flag, time zone, updates', async () => {
    const out = await render(
      'full',
      [
        '--hostname',
        'node1.example.com',
        '--user',
        'kube',
        '--ssh-authorized-key',
        KEY,
        '--package',
        'htop',
        '--package-update',
        '--package-upgrade',
        '--kubesolo',
        '--kubesolo-version',
        'v1.1.9',
        '--kubesolo-path',
        '/var/lib/kubesolo',
        '--kubesolo-apiserver-extra-san',
        '192.0.2.10',
        '--kubesolo-local-storage',
        '--kubesolo-proxy',
        'http://proxy.example:3128',
        '--timezone',
        'Europe/Berlin',
        '--sudo',
        'password',
      ],
      { GUESTLINK_CI_PASSWORD_HASH: HASH },
    );
    const r = schema(path.join(out, 'user-data'));
    assert.equal(r.status, 0, r.out);
    assert.match(r.out, /Valid cloud-config/);
    assert.doesNotMatch(r.out, /deprecat/i);
  });

  it('user-data: guestlink agent from a verified download (write_files), and from npm with sudo none', async () => {
    for (const [name, args] of [
      [
        'agent-url',
        [
          '--guest-agent',
          'guestlink',
          '--guestlink-url',
          'https://downloads.example/guestlink-agent',
          '--guestlink-sha256',
          'c'.repeat(64),
        ],
      ],
      ['agent-npm', ['--guest-agent', 'guestlink', '--user', 'ops', '--sudo', 'none', '--ssh-password-auth']],
    ] as const) {
      const out = await render(name, ['--hostname', 'node2', ...args]);
      const r = schema(path.join(out, 'user-data'));
      assert.equal(r.status, 0, `${name}: ${r.out}`);
    }
  });

  it('cloud-init schema refuses a broken variant of the same user-data (the check has teeth)', async () => {
    const good = readFileSync(path.join(dir, 'minimal', 'user-data'), 'utf8');
    const bad = path.join(dir, 'bad-user-data');
    writeFileSync(bad, `${good}packages: 5\n`);
    const r = schema(bad);
    assert.notEqual(r.status, 0);
    assert.match(r.out, /packages: 5 is not of type 'array'/);
  });

  it('network-config static v4+v6 by MAC: networkd, ENI (Alpine) and netplan render the addresses, routes and DNS', async () => {
    const out = await render('static', [
      '--hostname',
      'node3',
      '--net',
      'static',
      '--net-interface',
      'lan0',
      '--net-mac',
      '52:54:00:aa:bb:cc',
      '--net-address',
      '192.0.2.10/24',
      '--net-address',
      '2001:db8::10/64',
      '--net-gateway',
      '192.0.2.1',
      '--net-gateway',
      '2001:db8::1',
      '--net-dns',
      '192.0.2.53',
      '--net-search',
      'example.com',
    ]);
    const file = path.join(out, 'network-config');
    const networkd = netConvert(file, 'debian', 'networkd');
    assert.equal(networkd.status, 0, networkd.out);
    assert.match(networkd.text, /MACAddress=52:54:00:aa:bb:cc/);
    assert.match(networkd.text, /Address=192\.0\.2\.10\/24/);
    assert.match(networkd.text, /Address=2001:db8::10\/64/);
    assert.match(networkd.text, /Destination=0\.0\.0\.0\/0\s+Gateway=192\.0\.2\.1/);
    assert.match(networkd.text, /\[Route\]\s+Gateway=2001:db8::1/, 'an IPv6 default route, not ::/64');
    assert.match(networkd.text, /DNS=192\.0\.2\.53/);
    assert.match(networkd.text, /Domains=example\.com/);
    const eni = netConvert(file, 'alpine', 'eni');
    assert.equal(eni.status, 0, eni.out);
    assert.match(eni.text, /ATTR\{address\}=="52:54:00:aa:bb:cc", NAME="lan0"/);
    assert.match(eni.text, /iface lan0 inet static\s+address 192\.0\.2\.10\/24/);
    assert.match(eni.text, /route add default gw 192\.0\.2\.1/);
    assert.match(eni.text, /iface lan0 inet6 static\s+address 2001:db8::10\/64\s+gateway 2001:db8::1/);
    const netplan = netConvert(file, 'ubuntu', 'netplan');
    assert.equal(netplan.status, 0, netplan.out);
    assert.match(netplan.text, /set-name: lan0/);
  });

  it('a MAC of digits only (a base-60 integer to YAML 1.1) reaches cloud-init as the MAC', async () => {
    const out = await render('mac-digits', ['--hostname', 'node5', '--net', 'dhcp', '--net-mac', '52:54:00:12:34:56']);
    const r = netConvert(path.join(out, 'network-config'), 'debian', 'networkd');
    assert.equal(r.status, 0, r.out);
    assert.match(r.text, /MACAddress=52:54:00:12:34:56/);
  });

  it('network-config dhcp: networkd gets DHCP=ipv4', async () => {
    const out = await render('dhcp', ['--hostname', 'node4', '--net', 'dhcp', '--net-dns', '192.0.2.53']);
    const r = netConvert(path.join(out, 'network-config'), 'debian', 'networkd');
    assert.equal(r.status, 0, r.out);
    assert.match(r.text, /Name=eth0/);
    assert.match(r.text, /DHCP=ipv4/);
  });

  it('net-convert refuses a broken network-config (the check has teeth)', () => {
    const bad = path.join(dir, 'bad-network-config');
    writeFileSync(bad, 'version: 2\nethernets:\n  eth0:\n    addresses: [not-an-address]\n');
    const r = netConvert(bad, 'debian', 'networkd');
    assert.notEqual(r.status, 0);
    assert.match(r.out, /not a valid ip/);
  });
});
