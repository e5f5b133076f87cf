// kubeconfig exec plugins for the rollout (the user's own kubeconfig, run as kubectl runs them):
// the token a plugin prints is used, KUBERNETES_EXEC_INFO and the plugin's env reach it, a token
// past its expirationTimestamp is fetched again, and a missing or misbehaving plugin or an
// auth-provider is a clear error. The agent's own loader still refuses plugins (kube/kubeconfig.test.ts).
import assert from 'node:assert/strict';
import { chmodSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { connectCluster } from '../../src/host/rollout/connect.js';
import { KubeApiDouble } from '../doubles/kube-api.js';
import { ClusterDouble, ROLLOUT_TOKEN } from '../doubles/kube-workloads.js';
import { makeTempDir } from '../peer/harness.js';

let api: KubeApiDouble;
let k8s: ClusterDouble;
const dir = makeTempDir('rollout-exec-');
before(async () => {
  api = await new KubeApiDouble().start();
  k8s = new ClusterDouble(api);
  api.addNode('w1');
});
after(async () => {
  k8s.stop();
  await api.stop();
});

/** A kubeconfig whose user runs `command` (relative to the kubeconfig's directory). */
function kubeconfig(user: string): string {
  const file = path.join(dir, `kubeconfig-${Math.random().toString(16).slice(2)}`);
  writeFileSync(
    file,
    `apiVersion: v1
kind: Config
clusters: [{name: c, cluster: {server: "${api.url}"}}]
contexts: [{name: x, context: {cluster: c, user: u}}]
current-context: x
users:
  - name: u
    user:
${user}`,
  );
  return file;
}

/** A plugin: logs each run and its KUBERNETES_EXEC_INFO and FOO, prints a credential expiring in `expiresS`. */
function plugin(name: string, expiresS: number, body?: string): void {
  const log = path.join(dir, `${name}.log`);
  writeFileSync(
    path.join(dir, name),
    `#!/bin/sh
printf '%s|%s\\n' "$KUBERNETES_EXEC_INFO" "$FOO" >> '${log}'
${body ?? `printf '{"apiVersion":"client.authentication.k8s.io/v1","kind":"ExecCredential","status":{"token":"${ROLLOUT_TOKEN}","expirationTimestamp":"%s"}}' "$(date -u -d @$(( $(date +%s) + ${expiresS} )) +%Y-%m-%dT%H:%M:%SZ)"`}
`,
  );
  chmodSync(path.join(dir, name), 0o755);
}
const runs = (name: string) =>
  readFileSync(path.join(dir, `${name}.log`), 'utf8')
    .trim()
    .split('\n');

test("an exec plugin's token is used; its env and KUBERNETES_EXEC_INFO reach it; run once while valid", async () => {
  plugin('login', 3600);
  const file = kubeconfig(`      exec:
        apiVersion: client.authentication.k8s.io/v1
        command: ./login
        env: [{name: FOO, value: bar}]
        interactiveMode: Never
        provideClusterInfo: true`);
  const c = await connectCluster(file, { PATH: process.env.PATH }, false);
  try {
    assert.deepEqual(
      (await c.cluster.nodes()).map((n) => n.name),
      ['w1'],
    );
    await c.cluster.nodes();
  } finally {
    c.cluster.close();
  }
  const r = runs('login');
  assert.equal(r.length, 1);
  const [info, foo] = (r[0] as string).split('|');
  assert.equal(foo, 'bar');
  const spec = JSON.parse(info as string);
  assert.equal(spec.kind, 'ExecCredential');
  assert.equal(spec.spec.interactive, false);
  assert.equal(spec.spec.cluster.server, api.url);
});

test('a token past its expirationTimestamp is fetched again', async () => {
  plugin('short', 1);
  const c = await connectCluster(
    kubeconfig('      exec: {apiVersion: client.authentication.k8s.io/v1, command: ./short, interactiveMode: Never}\n'),
    { PATH: process.env.PATH },
    false,
  );
  try {
    await c.cluster.nodes();
    await c.cluster.nodes();
  } finally {
    c.cluster.close();
  }
  assert.equal(runs('short').length, 3, 'once at load, then at each call (it expires within the 30 s margin)');
});

test('missing, failing or garbage-printing plugins, and auth-provider, are clear errors', async () => {
  const cases: [string, RegExp][] = [
    [
      '      exec: {apiVersion: client.authentication.k8s.io/v1, command: ./absent, installHint: "apt-get install kubelogin", interactiveMode: Never}\n',
      /exec plugin \.\/absent failed|exec plugin \.\/absent not found \(apt-get install kubelogin\)/,
    ],
    [
      '      exec: {apiVersion: client.authentication.k8s.io/v1alpha1, command: ./login}\n',
      /apiVersion client\.authentication\.k8s\.io\/v1alpha1 is not supported/,
    ],
    [
      '      exec: {apiVersion: client.authentication.k8s.io/v1, command: ./garbage, interactiveMode: Never}\n',
      /did not print an ExecCredential \(not JSON\)/,
    ],
    [
      '      exec: {apiVersion: client.authentication.k8s.io/v1, command: ./empty, interactiveMode: Never}\n',
      /gave neither a token nor a client certificate/,
    ],
    [
      '      exec: {apiVersion: client.authentication.k8s.io/v1, command: ./login, interactiveMode: Always}\n',
      /wants a terminal \(interactiveMode Always\) and stdin is not one/,
    ],
    ['      auth-provider: {name: oidc}\n', /uses an auth-provider plugin, which guestlink does not run/],
  ];
  plugin('garbage', 60, "echo '<html>'");
  plugin('empty', 60, `echo '{"kind":"ExecCredential","status":{}}'`);
  for (const [user, msg] of cases) await assert.rejects(connectCluster(kubeconfig(user), { PATH: process.env.PATH }, false), msg);
});
