import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { resolveCloudInit } from './config.js';
import { type CiRaw, CloudInitSettingError, ciEnvName, mergeCi, readCiEnv, readCiFile } from './settings.js';

const KEY = 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIEhhXvwn0kU0wiQ4F3SszOabclPtriJtP3yRzNI1uwcT me@host';
const HASH = '$6$aizw.7Egmc/Bv23M$bLtuzJY1RyHKyO7OZAIQCzFLl/2DvDUpLw9/GNVbsA0RmAHeKA3KIG6FqMBTwV0VkOYqmY9RjxE5x9ihU.zoG0';
const noFiles = (p: string): string => {
  throw new Error(`ENOENT: no such file, open '${p}'`);
};
const resolve = (raw: CiRaw, files: Record<string, string> = {}) =>
  resolveCloudInit(mergeCi(raw), (p) => (p in files ? (files[p] as string) : noFiles(p)));
const refuses = (raw: CiRaw, re: RegExp, files?: Record<string, string>) =>
  assert.throws(
    () => resolve(raw, files),
    (err: unknown) => err instanceof CloudInitSettingError && re.test(err.message),
  );

describe('settings sources', () => {
  it('takes flags over the environment over the file over the defaults; lists replace, not merge', () => {
    const file = readCiFile({ hostname: 'from-file', 'net-dns': ['192.0.2.1', '192.0.2.2'], timezone: 'UTC' }, 'f.yaml');
    const env = readCiEnv({ [ciEnvName('hostname')]: 'from-env', [ciEnvName('net-dns')]: '192.0.2.9' });
    const flags: CiRaw = { hostname: 'from-flag' };
    const merged = mergeCi(file, env, flags);
    assert.equal(merged.hostname, 'from-flag');
    assert.deepEqual(merged['net-dns'], ['192.0.2.9']);
    assert.equal(merged.timezone, 'UTC');
    assert.equal(merged.net, 'auto', 'default from the table');
    assert.equal(mergeCi(file, env).hostname, 'from-env');
  });
  it('splits environment lists: SSH keys by line, others by comma; parses booleans', () => {
    const env = readCiEnv({
      GUESTLINK_CI_SSH_AUTHORIZED_KEYS: `${KEY}\n\n${KEY.replace('me@host', 'other, with comma')}\n`,
      GUESTLINK_CI_PACKAGES: 'htop, curl',
      GUESTLINK_CI_KUBESOLO: 'yes',
    });
    assert.equal((env['ssh-authorized-keys'] as string[]).length, 2);
    assert.deepEqual(env.packages, ['htop', 'curl']);
    assert.equal(env.kubesolo, true);
  });
  it('refuses unknown GUESTLINK_CI_ variables and unknown file keys, so typos are not ignored', () => {
    assert.throws(() => readCiEnv({ GUESTLINK_CI_HOSTNAM: 'x' }), /unknown environment variable GUESTLINK_CI_HOSTNAM/);
    assert.throws(() => readCiFile({ hostnam: 'x' }, 'f.yaml'), /f\.yaml: unknown key "hostnam"/);
    assert.throws(() => readCiFile(['x'], 'f.yaml'), /mapping/);
    assert.throws(() => readCiFile({ net: 'bridge' }, 'f.yaml'), /not one of auto, dhcp, static/);
    assert.throws(() => readCiFile({ kubesolo: 'maybe' }, 'f.yaml'), /true or false/);
  });
});

describe('resolving and checking', () => {
  it('derives short name, FQDN and a stable instance-id', () => {
    const c = resolve({ hostname: 'node1.example.com' });
    assert.equal(c.hostname, 'node1');
    assert.equal(c.fqdn, 'node1.example.com');
    assert.equal(c.instanceId, 'iid-node1');
    assert.ok(Object.isFrozen(c) && Object.isFrozen(c.sshAuthorizedKeys));
  });
  it('requires a valid host name', () => {
    refuses({}, /hostname is required/);
    refuses({ hostname: 'bad_name' }, /hostname "bad_name"/);
    refuses({ hostname: '-x' }, /hostname/);
  });
  it('reads keys from files (comments and blanks skipped) and refuses private or malformed keys', () => {
    const c = resolve({ hostname: 'a', 'ssh-authorized-keys-file': ['/k.pub'] }, { '/k.pub': `# mine\n\n${KEY}\n` });
    assert.deepEqual(c.sshAuthorizedKeys, [KEY]);
    refuses({ hostname: 'a', 'ssh-authorized-keys': ['-----BEGIN OPENSSH PRIVATE KEY-----'] }, /private key/);
    refuses({ hostname: 'a', 'ssh-authorized-keys': ['hello world'] }, /not an SSH public key/);
    refuses({ hostname: 'a', 'ssh-authorized-keys-file': ['/missing'] }, /ssh-authorized-keys-file "\/missing": ENOENT/);
  });
  it('accepts crypt hashes only, never repeats the value, and needs a user for it', () => {
    assert.equal(resolve({ hostname: 'a', user: 'kube', 'password-hash': HASH }).user?.passwordHash, HASH);
    const fromFile = resolve({ hostname: 'a', user: 'kube', 'password-hash-file': '/h' }, { '/h': `${HASH}\n` });
    assert.equal(fromFile.user?.passwordHash, HASH);
    for (const bad of ['hunter2', '$1$abc$def', 'abcdefghijklm']) {
      assert.throws(
        () => resolve({ hostname: 'a', user: 'kube', 'password-hash': bad }),
        (err: unknown) => err instanceof CloudInitSettingError && !err.message.includes(bad) && /crypt\(3\) hash/.test(err.message),
      );
    }
    refuses({ hostname: 'a', 'password-hash': HASH }, /needs --user/);
    refuses({ hostname: 'a', user: 'kube', 'password-hash': HASH, 'password-hash-file': '/h' }, /not both/);
    refuses({ hostname: 'a', user: 'kube', sudo: 'password' }, /--sudo password needs a password hash/);
    refuses({ hostname: 'a', user: 'root' }, /not root/);
  });
  it('needs a SHA-256 and https for a guestlink download, and guest-agent guestlink for either', () => {
    const sha = 'a'.repeat(64);
    const c = resolve({ hostname: 'a', 'guest-agent': 'guestlink', 'guestlink-url': 'https://example.com/ga', 'guestlink-sha256': sha });
    assert.deepEqual(c.guestAgent, { kind: 'guestlink', url: 'https://example.com/ga', sha256: sha });
    refuses({ hostname: 'a', 'guest-agent': 'guestlink', 'guestlink-url': 'https://example.com/ga' }, /needs --guestlink-sha256/);
    refuses({ hostname: 'a', 'guest-agent': 'guestlink', 'guestlink-url': 'http://example.com/ga', 'guestlink-sha256': sha }, /https/);
    refuses({ hostname: 'a', 'guestlink-url': 'https://example.com/ga' }, /need --guest-agent guestlink/);
  });
  it('checks KubeSolo values', () => {
    const k = resolve({
      hostname: 'a',
      kubesolo: true,
      'kubesolo-version': '1.1.9',
      'kubesolo-apiserver-extra-sans': ['192.0.2.10', 'k8s.example.com'],
    });
    assert.equal(k.kubesolo?.version, 'v1.1.9');
    assert.equal(k.kubesolo?.installUrl, 'https://get.kubesolo.io');
    refuses({ hostname: 'a', kubesolo: true, 'kubesolo-version': 'latest; rm -rf /' }, /kubesolo-version/);
    refuses({ hostname: 'a', kubesolo: true, 'kubesolo-path': 'relative' }, /absolute/);
    refuses({ hostname: 'a', kubesolo: true, 'kubesolo-apiserver-extra-sans': ['999.1.1.1'] }, /IP address/);
  });
  it('checks the network: CIDR addresses, gateways reachable by family, DNS addresses, modes', () => {
    const n = resolve({
      hostname: 'a',
      net: 'static',
      'net-addresses': ['192.0.2.10/24', '2001:db8::10/64'],
      'net-gateways': ['192.0.2.1', '2001:db8::1'],
      'net-mac': '52-54-00-AA-BB-CC',
    }).network;
    assert.ok(n.mode === 'static');
    assert.equal(n.mac, '52:54:00:aa:bb:cc');
    refuses({ hostname: 'a', net: 'static' }, /at least one --net-address/);
    refuses({ hostname: 'a', net: 'static', 'net-addresses': ['192.0.2.10'] }, /prefix length/);
    refuses({ hostname: 'a', net: 'static', 'net-addresses': ['192.0.2.10/33'] }, /prefix length/);
    refuses({ hostname: 'a', net: 'static', 'net-addresses': ['192.0.2.10/24'], 'net-gateways': ['2001:db8::1'] }, /no IPv6 address/);
    refuses({ hostname: 'a', net: 'static', 'net-addresses': ['192.0.2.10/24'], 'net-gateways': ['192.0.2.1', '192.0.2.2'] }, /one IPv4/);
    refuses({ hostname: 'a', net: 'dhcp', 'net-addresses': ['192.0.2.10/24'] }, /for --net static/);
    refuses({ hostname: 'a', 'net-dns': ['192.0.2.53'] }, /need --net dhcp or --net static/);
    refuses({ hostname: 'a', net: 'dhcp', 'net-dns': ['dns.example'] }, /net-dns/);
    refuses({ hostname: 'a', net: 'dhcp', 'net-interface': 'eth0; reboot' }, /net-interface/);
  });
  it('refuses package names and time zones a shell or YAML could misread', () => {
    refuses({ hostname: 'a', packages: ['htop; reboot'] }, /package/);
    refuses({ hostname: 'a', timezone: '../../etc/passwd' }, /timezone/);
  });
});
