// What ships for the management endpoint: the kustomize components render (kubectl's own kustomize),
// their objects are valid Kubernetes objects, the DaemonSet's new arguments and the host unit's
// command line are accepted by the agent, and systemd-analyze verifies the unit.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { cpSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import YAML from 'yaml';
import { AGENT_BIN, makeTempDir, REPO_ROOT } from '../peer/harness.js';

type Obj = Record<string, any>;
const inCi = process.env.CI === 'true';

/** Skip with the reason outside CI; under CI a missing tool is a failure. */
function need(tool: string): string | false {
  const found = (process.env.PATH ?? '').split(':').some((d) => {
    try {
      execFileSync('test', ['-x', path.join(d, tool)]);
      return true;
    } catch {
      return false;
    }
  });
  if (found) return false;
  if (inCi) throw new Error(`${tool} is not installed (scripts/apt-packages.txt)`);
  return `${tool} is not installed`;
}

test('the management-endpoint components render with an overlay; RBAC as documented; the agent accepts the arguments', {
  skip: need('kubectl'),
}, async () => {
  const tmp = makeTempDir('guestlink-endpoint-deploy-');
  const deploy = path.join(tmp, 'deploy');
  cpSync(path.join(REPO_ROOT, 'deploy'), deploy, { recursive: true });
  mkdirSync(path.join(deploy, 'site'));
  writeFileSync(
    path.join(deploy, 'site/kustomization.yaml'),
    'apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresources: [../overlays/talos-serviceaccount]\ncomponents: [../components/management-endpoint, ../components/management-endpoint-self-approve]\n',
  );
  const objs = YAML.parseAllDocuments(execFileSync('kubectl', ['kustomize', path.join(deploy, 'site')], { encoding: 'utf8' })).map(
    (d) => d.toJS() as Obj,
  );
  for (const o of objs.filter((x) => x.apiVersion === 'rbac.authorization.k8s.io/v1')) {
    const { [o.kind]: Model } = await import(`kubernetes-models/rbac.authorization.k8s.io/v1/${o.kind}`);
    assert.doesNotThrow(() => new Model(o).validate(), `${o.kind}/${o.metadata.name}`);
  }
  const role = (name: string) => objs.find((o) => o.kind === 'ClusterRole' && o.metadata.name === name)?.rules;
  assert.deepEqual(role('guestlink-viewer'), [{ apiGroups: [''], resources: ['nodes/guestlink'], verbs: ['get'] }]);
  assert.deepEqual(role('guestlink-operator'), [{ apiGroups: [''], resources: ['nodes/guestlink'], verbs: ['get', 'update'] }]);
  assert.deepEqual(
    role('guestlink-identity-self-approve').find((r: Obj) => r.resources.includes('signers')),
    { apiGroups: ['certificates.k8s.io'], resources: ['signers'], resourceNames: ['kubernetes.io/kubelet-serving'], verbs: ['approve'] },
  );
  const ds = objs.find((o) => o.kind === 'DaemonSet') as Obj;
  const c = ds.spec.template.spec.containers[0];
  assert.ok(c.args.includes('--listen=tls://0.0.0.0:10280'));
  assert.ok(c.args.includes('--csr-approve=self'));
  assert.deepEqual(c.ports, [{ name: 'management', containerPort: 10280, protocol: 'TCP' }]);
  const args = c.args.map((a: string) => a.replace('$(NODE_NAME)', 'node-1').replace('$(HOST_IP)', '10.0.0.5'));
  const out = execFileSync(process.execPath, [AGENT_BIN, ...args, '--dump-conf'], {
    encoding: 'utf8',
    env: { PATH: process.env.PATH ?? '' },
  });
  assert.match(out, /^listen=tls:\/\/0\.0\.0\.0:10280$/m);
  assert.match(out, /^csr-approve=self$/m);
});

const UNIT = path.join(REPO_ROOT, 'deploy/systemd/guestlink-endpoint.service');
const execStart = () => (/^ExecStart=(.*)$/m.exec(readFileSync(UNIT, 'utf8'))?.[1] ?? '').split(/\s+/);

test('the host unit: a static kubeconfig path, a persistent state directory; the agent accepts ExecStart', () => {
  const [exe, sub, ...args] = execStart();
  assert.deepEqual([exe, sub], ['/usr/local/bin/guestlink', 'agent']);
  const out = execFileSync(process.execPath, [AGENT_BIN, ...args, '-c', '/dev/null', '--dump-conf'], { encoding: 'utf8' });
  assert.match(out, /^kubeconfig=\/etc\/guestlink\/kubeconfig$/m);
  assert.match(out, /^kube=kubeconfig$/m);
  assert.match(out, /^listen=tls:\/\/0\.0\.0\.0:10280$/m);
  assert.match(out, /^statedir=\/var\/lib\/guestlink$/m);
  assert.match(readFileSync(UNIT, 'utf8'), /^StateDirectory=guestlink$/m);
});

test('systemd-analyze verify accepts the host unit', { skip: need('systemd-analyze') }, () => {
  const dir = makeTempDir('guestlink-endpoint-unit-');
  const unit = path.join(dir, 'guestlink-endpoint.service');
  // verify checks that the program exists: point it at this checkout's agent.
  writeFileSync(unit, readFileSync(UNIT, 'utf8').replace('/usr/local/bin/guestlink agent', `${process.execPath} ${AGENT_BIN}`));
  const out = execFileSync('systemd-analyze', ['verify', unit], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  assert.equal(out, '');
});
