import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parse } from 'yaml';
import { VERSION } from '../../version.js';
import { resolveCloudInit } from './config.js';
import { kubesoloFlags, kubesoloRuncmd } from './kubesolo.js';
import { renderMetaData, renderNetworkConfig, renderUserData } from './render.js';
import { seedFiles } from './seed.js';
import { type CiRaw, mergeCi } from './settings.js';
import { shQuote } from './shell.js';

const KEY = 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIEhhXvwn0kU0wiQ4F3SszOabclPtriJtP3yRzNI1uwcT me@host';
const HASH = '$6$aizw.7Egmc/Bv23M$bLtuzJY1RyHKyO7OZAIQCzFLl/2DvDUpLw9/GNVbsA0RmAHeKA3KIG6FqMBTwV0VkOYqmY9RjxE5x9ihU.zoG0';
const config = (raw: CiRaw) =>
  resolveCloudInit(mergeCi(raw), () => {
    throw new Error('no files here');
  });

describe('user-data', () => {
  it('starts with #cloud-config and carries user, keys, hash, sudo, packages and the agent start', () => {
    const text = renderUserData(
      config({
        hostname: 'n1.example.com',
        user: 'kube',
        'ssh-authorized-keys': [KEY],
        'password-hash': HASH,
        packages: ['htop'],
        timezone: 'UTC',
      }),
    );
    assert.ok(text.startsWith('#cloud-config\n'));
    const doc = parse(text);
    assert.equal(doc.hostname, 'n1');
    assert.equal(doc.fqdn, 'n1.example.com');
    assert.equal(doc.timezone, 'UTC');
    assert.deepEqual(doc.users, [
      { name: 'kube', sudo: 'ALL=(ALL) NOPASSWD:ALL', lock_passwd: false, passwd: HASH, ssh_authorized_keys: [KEY] },
    ]);
    assert.equal(doc.ssh_pwauth, false);
    assert.deepEqual(doc.packages, ['qemu-guest-agent', 'htop']);
    assert.match(doc.runcmd[0], /systemctl enable --now qemu-guest-agent .* rc-update add qemu-guest-agent default/);
    assert.ok(!text.includes('\n  >'), 'long lines are not folded');
  });
  it("puts keys at the top level for the image's default user when no user is given; locks a user without hash", () => {
    assert.deepEqual(parse(renderUserData(config({ hostname: 'a', 'ssh-authorized-keys': [KEY] }))).ssh_authorized_keys, [KEY]);
    const u = parse(renderUserData(config({ hostname: 'a', user: 'kube', sudo: 'none' }))).users[0];
    assert.equal(u.lock_passwd, true);
    assert.equal(u.sudo, undefined);
    assert.equal(u.passwd, undefined);
  });
  it('installs guestlink from a verified download, or from npm at this version, with units for systemd and OpenRC', () => {
    const sha = 'b'.repeat(64);
    const url = parse(
      renderUserData(
        config({ hostname: 'a', 'guest-agent': 'guestlink', 'guestlink-url': 'https://h.example/ga', 'guestlink-sha256': sha }),
      ),
    );
    assert.match(
      url.runcmd[0],
      new RegExp(`curl -fsSL https://h.example/ga .* echo '${sha}  /usr/local/bin/guestlink.download' \\| sha256sum -c - && chmod 0755`),
    );
    assert.deepEqual(
      url.write_files.map((f: { path: string }) => f.path),
      ['/usr/local/lib/guestlink/guestlink-agent.service', '/usr/local/lib/guestlink/guestlink-agent.openrc'],
    );
    assert.match(url.write_files[0].content, /ExecStart=\/usr\/local\/bin\/guestlink agent --method=virtio-serial /);
    assert.match(url.write_files[1].content, /command="\/usr\/local\/bin\/guestlink"\ncommand_args="agent --method=virtio-serial /);
    assert.match(url.runcmd[1], /systemctl disable --now qemu-guest-agent/);
    assert.ok(!url.packages.includes('qemu-guest-agent'));
    const npm = parse(renderUserData(config({ hostname: 'a', 'guest-agent': 'guestlink' })));
    assert.match(npm.runcmd[0], new RegExp(`npm install -g guestlink@${VERSION.replace(/\./g, '\\.')}`));
    assert.deepEqual(npm.packages, ['nodejs', 'npm']);
    assert.match(npm.write_files[0].content, /ExecStart=\/usr\/local\/bin\/guestlink-agent --method=virtio-serial /);
    assert.equal(parse(renderUserData(config({ hostname: 'a', 'guest-agent': 'none' }))).runcmd, undefined);
  });
  it('runs the KubeSolo installer with its documented flags, shell-quoted, and adds curl', () => {
    const c = config({
      hostname: 'a',
      kubesolo: true,
      'kubesolo-version': 'v1.1.9',
      'kubesolo-path': '/data/kubesolo',
      'kubesolo-apiserver-extra-sans': ['192.0.2.10', 'k8s.example.com'],
      'kubesolo-local-storage': true,
      'kubesolo-proxy': 'http://proxy.example:3128/?a=b&c',
    });
    assert.deepEqual(kubesoloFlags(c.kubesolo!), [
      '--version=v1.1.9',
      '--path=/data/kubesolo',
      '--apiserver-extra-sans=192.0.2.10,k8s.example.com',
      '--local-storage=true',
      '--proxy=http://proxy.example:3128/?a=b&c',
    ]);
    const [run, cleanup] = kubesoloRuncmd(c.kubesolo!);
    assert.match(
      run!,
      /^curl -sfL https:\/\/get\.kubesolo\.io -o \/run\/guestlink-kubesolo-install\.sh && sh \/run\/guestlink-kubesolo-install\.sh /,
    );
    assert.ok(run!.endsWith(`'--proxy=http://proxy.example:3128/?a=b&c'`));
    assert.equal(cleanup, 'rm -f /run/guestlink-kubesolo-install.sh');
    assert.ok(parse(renderUserData(c)).packages.includes('curl'));
  });
});

describe('meta-data and network-config', () => {
  it('meta-data has instance-id and local-hostname', () => {
    assert.deepEqual(parse(renderMetaData(config({ hostname: 'n1.example.com', 'instance-id': 'iid-42' }))), {
      'instance-id': 'iid-42',
      'local-hostname': 'n1.example.com',
    });
  });
  it('auto writes no network-config, so the seed has two files', () => {
    const c = config({ hostname: 'a' });
    assert.equal(renderNetworkConfig(c), undefined);
    assert.deepEqual(
      seedFiles(c).map((f) => f.name),
      ['user-data', 'meta-data'],
    );
  });
  it('dhcp by MAC renames the interface; static writes addresses, default routes per family and DNS', () => {
    assert.deepEqual(
      parse(renderNetworkConfig(config({ hostname: 'a', net: 'dhcp', 'net-mac': '52:54:00:00:00:01', 'net-interface': 'lan0' }))!),
      {
        version: 2,
        ethernets: { lan0: { match: { macaddress: '52:54:00:00:00:01' }, 'set-name': 'lan0', dhcp4: true } },
      },
    );
    const s = config({
      hostname: 'a',
      net: 'static',
      'net-addresses': ['192.0.2.10/24', '2001:db8::10/64'],
      'net-gateways': ['192.0.2.1', '2001:db8::1'],
      'net-dns': ['192.0.2.53'],
      'net-search': ['example.com'],
    });
    assert.deepEqual(parse(renderNetworkConfig(s)!).ethernets.eth0, {
      dhcp4: false,
      addresses: ['192.0.2.10/24', '2001:db8::10/64'],
      routes: [{ to: '0.0.0.0/0', via: '192.0.2.1' }],
      gateway6: '2001:db8::1',
      nameservers: { addresses: ['192.0.2.53'], search: ['example.com'] },
    });
  });
});

describe('shell quoting', () => {
  it('leaves safe words bare and single-quotes the rest, escaping quotes', () => {
    assert.equal(shQuote('--version=v1.1.9'), '--version=v1.1.9');
    assert.equal(shQuote("a b'c"), `'a b'\\''c'`);
    assert.equal(shQuote('$(reboot)'), `'$(reboot)'`);
  });
});
