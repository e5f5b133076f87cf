// A malicious guest against `guestlink kubeconfig`: its kubeconfig carries an exec credential plugin,
// auth-provider, tokenFile, file paths, a proxy, basic auth, insecure-skip-tls-verify, or a context
// bound to the host's own user (prod-admin); or it tries to change the user's current context.
// Each is refused (exit 7, nothing written, the host file byte for byte as it was) or defused, and
// the real kubectl is asked afterwards what it sees in the merged file.
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import YAML from 'yaml';
import { runCli } from '../cli/run-cli.js';
import { makeTempDir } from '../peer/harness.js';
import { fileHandlers, type HostileGuest, startHostileGuest } from './hostile-guest.js';

const KUBECTL = ['/usr/bin/kubectl', '/usr/local/bin/kubectl'].find((p) => existsSync(p));
// Under CI a missing kubectl fails the kubectl checks; elsewhere they are skipped, saying why.
const NO_KUBECTL = !KUBECTL && process.env.CI !== 'true' ? 'kubectl is not installed (apt-get install kubectl)' : false;

const CA = 'LS0tLS1CRUdJTiBDRVJUSUZJQ0FURS0tLS0tCg==';
/** The user's own kubeconfig: a production cluster whose user holds a bearer token. */
const HOST = (current = true) => `apiVersion: v1
kind: Config
clusters:
- name: prod
  cluster:
    server: https://prod.example:6443
    certificate-authority-data: ${CA}
users:
- name: prod-admin
  user:
    token: HOST-SECRET-TOKEN
contexts:
- name: prod
  context:
    cluster: prod
    user: prod-admin
${current ? 'current-context: prod\n' : ''}`;

/**
 * A guest kubeconfig: one cluster, user and context named "default", with extra fields spliced in.
 * `bare` leaves out the (placeholder, not parseable) certificate data, for files kubectl must load.
 */
const GUEST = (o: { cluster?: object; user?: object; contextUser?: string; extra?: object; bare?: boolean } = {}) =>
  YAML.stringify({
    apiVersion: 'v1',
    kind: 'Config',
    clusters: [
      {
        name: 'default',
        cluster: { server: 'https://127.0.0.1:6443', ...(o.bare ? {} : { 'certificate-authority-data': CA }), ...o.cluster },
      },
    ],
    users: [{ name: 'default', user: { ...(o.bare ? {} : { 'client-certificate-data': CA, 'client-key-data': CA }), ...o.user } }],
    contexts: [{ name: 'default', context: { cluster: 'default', user: o.contextUser ?? 'default' } }],
    'current-context': 'default',
    ...o.extra,
  });

describe('kubeconfig from a malicious guest', () => {
  let guest: HostileGuest;
  let serve: Buffer = Buffer.from(GUEST());
  let dir: string;
  const marker = () => path.join(dir, 'pwned');
  before(async () => {
    dir = makeTempDir('guestlink-kc-attack-');
    guest = await startHostileGuest({
      'guest-network-get-interfaces': (_a, r) =>
        r.ok([{ name: 'eth0', 'ip-addresses': [{ 'ip-address-type': 'ipv4', 'ip-address': '192.0.2.10', prefix: 24 }] }]),
      // The file changes per test: it is read when the CLI opens it.
      ...fileHandlers({ content: () => serve }),
    });
  });
  after(() => guest?.stop());

  /** Serves `text` as the guest's kubeconfig and runs the CLI against a fresh copy of the host file. */
  const attempt = async (text: string, args: string[], host = HOST()) => {
    serve = Buffer.from(text);
    const file = path.join(makeTempDir('guestlink-kc-host-'), 'config');
    writeFileSync(file, host, { mode: 0o600 });
    const r = await runCli(['kubeconfig', guest.address, '--path', '/etc/rancher/k3s/k3s.yaml', ...args], { env: { KUBECONFIG: file } });
    return { ...r, file, after: readFileSync(file, 'utf8') };
  };

  const EXEC = {
    exec: { apiVersion: 'client.authentication.k8s.io/v1', command: '/bin/sh', args: ['-c', 'touch MARKER'], interactiveMode: 'Never' },
  };

  test('an exec credential plugin is refused: nothing merged, written or printed', async () => {
    const text = GUEST({ user: { exec: { ...EXEC.exec, args: ['-c', `touch ${marker()}`] } } });
    const m = await attempt(text, ['--merge']);
    assert.equal(m.status, 7, m.stderr);
    assert.match(m.stderr, /users\[0\] "default"\.user\.exec: runs a program on this host/);
    assert.equal(m.after, HOST(), 'the host kubeconfig is byte for byte unchanged');
    const out = path.join(makeTempDir(), 'written');
    const w = await attempt(text, ['-f', out]);
    assert.equal(w.status, 7);
    assert.equal(existsSync(out), false, 'plain -f writes nothing either');
    const s = await attempt(text, []);
    assert.equal(s.status, 7);
    assert.equal(s.stdout, '', 'and nothing reaches stdout');
    // With insecure-skip-tls-verify as well, --allow-insecure lets the insecure part through, never the plugin.
    const both = await attempt(GUEST({ user: EXEC, cluster: { 'insecure-skip-tls-verify': true } }), ['--merge', '--allow-insecure']);
    assert.equal(both.status, 7);
    assert.equal(both.after, HOST());
    assert.equal(existsSync(marker()), false);
  });

  for (const [field, extra] of [
    ['auth-provider', { user: { 'auth-provider': { name: 'oidc', config: { 'idp-issuer-url': 'https://evil.example' } } } }],
    ['tokenFile', { user: { tokenFile: '/root/.kube/token' } }],
    ['client-certificate', { user: { 'client-certificate': '/etc/kubernetes/pki/admin.crt' } }],
    ['client-key', { user: { 'client-key': '/root/.ssh/id_ed25519' } }],
    ['certificate-authority', { cluster: { 'certificate-authority': '/etc/shadow' } }],
    ['proxy-url', { cluster: { 'proxy-url': 'http://evil.example:3128' } }],
    ['username', { user: { username: 'admin', password: 'hunter2' } }],
  ] as const) {
    test(`${field} is refused with the field named (exit 7, host file unchanged)`, async () => {
      const m = await attempt(GUEST(extra), ['--merge']);
      assert.equal(m.status, 7, m.stderr);
      assert.match(m.stderr, new RegExp(`\\.${field}: `));
      assert.match(m.stderr, /nothing was written/);
      assert.equal(m.after, HOST());
    });
  }

  test("a guest context naming the host's user (prod-admin) is refused: it would send the host's token to the guest's server", async () => {
    const m = await attempt(GUEST({ contextUser: 'prod-admin' }), ['--merge', '--set-current']);
    assert.equal(m.status, 7, m.stderr);
    assert.match(m.stderr, /context "default": user "prod-admin" is not defined in this kubeconfig/);
    assert.equal(m.after, HOST());
  });

  test("names the host file uses are never replaced: the guest's entries are prefixed and bound only to each other", async () => {
    // --name prod: the guest's cluster, user and context would all be called "prod", like the host's.
    const m = await attempt(GUEST({ user: { token: 'GUEST-TOKEN' } }), ['--merge', '--name', 'prod']);
    assert.equal(m.status, 0, m.stderr);
    assert.match(m.stderr, /merged as guestlink-\.\.\. .*nothing in .* was replaced/);
    const k = YAML.parse(m.after);
    assert.deepEqual(
      k.contexts.map((c: { name: string; context: object }) => [c.name, c.context]),
      [
        ['prod', { cluster: 'prod', user: 'prod-admin' }],
        ['guestlink-prod', { cluster: 'guestlink-prod', user: 'guestlink-prod' }],
      ],
    );
    assert.equal(k.users.find((u: { name: string }) => u.name === 'prod-admin').user.token, 'HOST-SECRET-TOKEN');
    assert.equal(k.clusters.find((c: { name: string }) => c.name === 'prod').cluster.server, 'https://prod.example:6443');
    assert.equal(k['current-context'], 'prod');
  });

  test('current-context changes only with --set-current; a host file without one does not get one', async () => {
    const keep = await attempt(GUEST(), ['--merge', '--name', 'vm1']);
    assert.equal(keep.status, 0, keep.stderr);
    assert.equal(YAML.parse(keep.after)['current-context'], 'prod');
    const none = await attempt(GUEST(), ['--merge', '--name', 'vm1'], HOST(false));
    assert.equal(none.status, 0, none.stderr);
    assert.equal(YAML.parse(none.after)['current-context'], undefined, 'no current-context set implicitly');
    const set = await attempt(GUEST(), ['--merge', '--name', 'vm1', '--set-current']);
    assert.equal(YAML.parse(set.after)['current-context'], 'vm1');
  });

  test('insecure-skip-tls-verify: refused under --merge unless --allow-insecure; warned about loudly always', async () => {
    const text = GUEST({ cluster: { 'insecure-skip-tls-verify': true } });
    const refused = await attempt(text, ['--merge']);
    assert.equal(refused.status, 7);
    assert.match(refused.stderr, /insecure-skip-tls-verify.*pass --allow-insecure/);
    assert.equal(refused.after, HOST());
    const allowed = await attempt(text, ['--merge', '--allow-insecure', '--name', 'vm1']);
    assert.equal(allowed.status, 0, allowed.stderr);
    assert.match(allowed.stderr, /WARNING: insecure-skip-tls-verify/);
    const plain = await attempt(text, []);
    assert.equal(plain.status, 0);
    assert.match(plain.stderr, /WARNING: insecure-skip-tls-verify/);
  });

  test('extensions and unknown fields are left out (named on stderr), embedded data kept exactly', async () => {
    const text = GUEST({ cluster: { extensions: [{ name: 'x', extension: { a: 1 } }] }, extra: { preferences: { colors: true } } });
    const r = await attempt(text, []);
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stderr, /left out of the guest's kubeconfig: preferences .*clusters\[0\] "default"\.cluster\.extensions/);
    const k = YAML.parse(r.stdout);
    assert.deepEqual(k.clusters[0].cluster, { server: 'https://192.0.2.10:6443', 'certificate-authority-data': CA });
    assert.deepEqual(Object.keys(k.users[0].user), ['client-certificate-data', 'client-key-data']);
  });

  describe('as kubectl sees the result', { skip: NO_KUBECTL }, () => {
    const view = (file: string) => {
      assert.ok(KUBECTL, 'kubectl is required under CI (scripts/apt-packages.txt)');
      return JSON.parse(execFileSync(KUBECTL, ['--kubeconfig', file, 'config', 'view', '--raw', '-o', 'json'], { encoding: 'utf8' }));
    };

    test('after refused attacks and a clean merge: no exec, no host-user rebinding, current-context unchanged', async () => {
      // The attacks first, each against the same file; then a clean merge that collides with the host's names.
      // kubectl must load every entry for a context to get as far as the credentials: no placeholder PEM here.
      const host = HOST().replace(`    certificate-authority-data: ${CA}\n`, '');
      const file = path.join(makeTempDir('guestlink-kc-kubectl-'), 'config');
      writeFileSync(file, host, { mode: 0o600 });
      const run = (text: string, args: string[]) => {
        serve = Buffer.from(text);
        return runCli([
          'kubeconfig',
          guest.address,
          '--path',
          '/k',
          '--api-server',
          'https://127.0.0.1:9',
          '--merge',
          '--file',
          file,
          ...args,
        ]);
      };
      await run(GUEST({ bare: true, user: { exec: { ...EXEC.exec, args: ['-c', `touch ${marker()}`] } } }), ['--name', 'vm1']);
      await run(GUEST({ bare: true, contextUser: 'prod-admin' }), ['--name', 'vm2', '--set-current']);
      const clean = await run(GUEST({ bare: true, user: { token: 'GUEST-TOKEN' } }), ['--name', 'prod']);
      assert.equal(clean.status, 0, clean.stderr);
      const k = view(file);
      // Using every context runs no plugin (kubectl fails to connect, which is fine here).
      for (const c of k.contexts as { name: string }[])
        spawnSync(KUBECTL as string, ['--kubeconfig', file, '--context', c.name, 'get', 'ns', '--request-timeout=3s'], {
          encoding: 'utf8',
        });
      const ctx = Object.fromEntries(
        k.contexts.map((c: { name: string; context: { user: string; cluster: string } }) => [c.name, c.context]),
      );
      const token = Object.fromEntries(k.users.map((u: { name: string; user: { token?: string } }) => [u.name, u.user.token]));
      const plugins = (k.users as { name: string; user: Record<string, unknown> }[]).flatMap((u) =>
        ['exec', 'auth-provider', 'tokenFile', 'client-certificate', 'client-key', 'username', 'password']
          .filter((f) => u.user[f] !== undefined)
          .map((f) => `${u.name}.${f}`),
      );
      // Everything kubectl sees, checked at once, so a failure shows the whole picture.
      assert.deepEqual(
        { pluginRan: existsSync(marker()), plugins, currentContext: k['current-context'], contexts: ctx, tokens: token },
        {
          pluginRan: false,
          plugins: [],
          currentContext: 'prod',
          contexts: {
            prod: { cluster: 'prod', user: 'prod-admin' },
            'guestlink-prod': { cluster: 'guestlink-prod', user: 'guestlink-prod' },
          },
          tokens: { 'prod-admin': 'HOST-SECRET-TOKEN', 'guestlink-prod': 'GUEST-TOKEN' },
        },
      );
    });
  });
});
