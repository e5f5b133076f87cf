// The Kubernetes manifests under deploy/: every overlay rendered by kubectl's built-in kustomize,
// every object validated against the Kubernetes schemas (kubernetes-models), the DaemonSet checked
// for what the agent needs and nothing more, its arguments accepted by the agent (--dump-conf), and
// `kubectl apply --dry-run=client` run against a double of the API server's discovery (kubectl
// cannot dry-run with no server at all; see kube-discovery-double.ts). RBAC comes from
// deploy/kubernetes/rbac.yaml (the Kubernetes lifecycle feature); when that file is missing a
// placeholder is written into this test's own copy of deploy/, never into the checkout.
import assert from 'node:assert/strict';
import { execFile, execFileSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { promisify } from 'node:util';
import YAML from 'yaml';
import { makeTempDir } from '../peer/harness.js';
import { missingTools, PACKAGE_VERSION, REPO_ROOT } from './build.js';
import { type DiscoveryDouble, startDiscoveryDouble } from './kube-discovery-double.js';

const skip = missingTools('kubectl');
const AGENT = path.join(REPO_ROOT, 'bin/guestlink-agent.js');

type Obj = Record<string, any>;

const PLACEHOLDER_RBAC = `apiVersion: v1
kind: Namespace
metadata:
  name: guestlink
---
apiVersion: v1
kind: ServiceAccount
metadata:
  name: guestlink
  namespace: guestlink
`;

/** The variants a user applies: name -> kustomization directory (relative to the copy of deploy/). */
const VARIANTS = {
  'talos-serviceaccount': 'overlays/talos-serviceaccount',
  'talos-secret': 'overlays/talos-secret',
  'talos-serviceaccount + device-plugin': 'test-unprivileged',
  'talos-serviceaccount + management endpoint, self approval': 'test-endpoint',
  'talos-serviceaccount + etcd-snapshots': 'test-etcd-snapshots',
} as const;

/** kubernetes-models class for an object, by apiVersion and kind; undefined for kinds it has no schema of. */
async function modelFor(o: Obj): Promise<(new (data: Obj) => { validate(): void }) | undefined> {
  if (o.apiVersion === 'talos.dev/v1alpha1') return undefined;
  const mod = await import(`kubernetes-models/${o.apiVersion}/${o.kind}`);
  return mod[o.kind] ?? mod.default;
}

describe('Kubernetes manifests', { skip, timeout: 120_000 }, () => {
  let deploy: string;
  const rendered = new Map<string, Obj[]>();
  let usedPlaceholder = false;

  before(() => {
    const tmp = makeTempDir('guestlink-manifests-');
    deploy = path.join(tmp, 'deploy');
    cpSync(path.join(REPO_ROOT, 'deploy'), deploy, { recursive: true });
    if (!existsSync(path.join(deploy, 'kubernetes/rbac.yaml'))) {
      usedPlaceholder = true;
      writeFileSync(path.join(deploy, 'kubernetes/rbac.yaml'), PLACEHOLDER_RBAC);
    }
    // How a user adds the component to an overlay (docs/install.md shows the same).
    mkdirSync(path.join(deploy, 'test-unprivileged'));
    writeFileSync(
      path.join(deploy, 'test-unprivileged/kustomization.yaml'),
      'apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresources:\n  - ../overlays/talos-serviceaccount\ncomponents:\n  - ../components/device-plugin\n',
    );
    // The management endpoint with self approval (docs/identity.md shows the same).
    mkdirSync(path.join(deploy, 'test-endpoint'));
    writeFileSync(
      path.join(deploy, 'test-endpoint/kustomization.yaml'),
      'apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresources:\n  - ../overlays/talos-serviceaccount\ncomponents:\n  - ../components/management-endpoint\n  - ../components/management-endpoint-self-approve\n',
    );
    mkdirSync(path.join(deploy, 'test-etcd-snapshots'));
    writeFileSync(
      path.join(deploy, 'test-etcd-snapshots/kustomization.yaml'),
      'apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresources:\n  - ../overlays/talos-serviceaccount\ncomponents:\n  - ../components/etcd-snapshots\n',
    );
    for (const [name, dir] of Object.entries(VARIANTS)) {
      const yaml = execFileSync('kubectl', ['kustomize', path.join(deploy, dir)], { encoding: 'utf8' });
      rendered.set(
        name,
        YAML.parseAllDocuments(yaml).map((d) => d.toJS() as Obj),
      );
    }
    if (usedPlaceholder) console.log('# deploy/kubernetes/rbac.yaml is missing: a placeholder Namespace and ServiceAccount stood in');
  });
  after(() => {
    if (deploy) rmSync(path.dirname(deploy), { recursive: true, force: true });
  });

  const daemonSet = (name: string): Obj => {
    const ds = rendered.get(name)?.find((o) => o.kind === 'DaemonSet');
    assert.ok(ds, `${name}: no DaemonSet`);
    return ds;
  };

  for (const name of Object.keys(VARIANTS)) {
    test(`${name}: every object is valid against the Kubernetes schemas`, async () => {
      const objs = rendered.get(name) ?? [];
      assert.ok(objs.length >= 3);
      for (const o of objs) {
        const Model = await modelFor(o);
        if (!Model) continue;
        assert.doesNotThrow(() => new Model(o).validate(), `${o.kind}/${o.metadata?.name}`);
      }
    });

    test(`${name}: the DaemonSet runs as the RBAC ServiceAccount, critical, on control planes, with the downward API`, () => {
      const objs = rendered.get(name) ?? [];
      const ds = daemonSet(name);
      const pod = ds.spec.template.spec;
      const sa = objs.find((o) => o.apiVersion === 'v1' && o.kind === 'ServiceAccount' && o.metadata.name === pod.serviceAccountName);
      assert.ok(sa, `ServiceAccount ${pod.serviceAccountName} is not in the rendered manifests`);
      assert.equal(sa.metadata.namespace, ds.metadata.namespace);
      assert.ok(objs.some((o) => o.kind === 'Namespace' && o.metadata.name === ds.metadata.namespace));
      assert.equal(pod.priorityClassName, 'system-node-critical');
      assert.ok(pod.tolerations.some((t: Obj) => t.key === 'node-role.kubernetes.io/control-plane' && t.operator === 'Exists'));
      assert.equal(pod.hostNetwork, true);
      assert.equal(pod.dnsPolicy, 'ClusterFirstWithHostNet');
      assert.equal(pod.hostPID, undefined);
      assert.equal(pod.hostIPC, undefined);
      const c = pod.containers[0];
      assert.equal(c.image, `ghcr.io/guestlink/guestlink:${PACKAGE_VERSION}`);
      const env = Object.fromEntries(c.env.map((e: Obj) => [e.name, e.valueFrom?.fieldRef?.fieldPath]));
      assert.deepEqual(env, { NODE_NAME: 'spec.nodeName', HOST_IP: 'status.hostIP' });
      assert.ok(c.args.includes('--node-name=$(NODE_NAME)'));
      assert.ok(c.args.includes('--talos-node=$(HOST_IP)'));
      assert.ok(c.args.includes('--kube=in-cluster'));
      assert.equal(c.securityContext.readOnlyRootFilesystem, true);
      // Host paths: only the virtio port names and os-release; nothing writable on the host, but the
      // etcd snapshot directory where that component is added (the agent writes its snapshots there).
      const writable = name.includes('etcd-snapshots') ? ['/var/lib/guestlink/etcd-snapshots'] : [];
      const hostPaths = pod.volumes.filter((v: Obj) => v.hostPath).map((v: Obj) => v.hostPath.path);
      for (const p of hostPaths) assert.ok(['/dev/virtio-ports', '/etc/os-release', ...writable].includes(p), `unexpected hostPath ${p}`);
      for (const m of c.volumeMounts) {
        const v = pod.volumes.find((x: Obj) => x.name === m.name);
        assert.ok(v, `mount ${m.name} has no volume`);
        if (v.hostPath && !writable.includes(v.hostPath.path)) assert.equal(m.readOnly, true, `${m.name} is a writable host path`);
      }
    });

    test(`${name}: the agent accepts the DaemonSet's arguments`, () => {
      const c = daemonSet(name).spec.template.spec.containers[0];
      const args = c.args.map((a: string) => a.replace('$(NODE_NAME)', 'node-1').replace('$(HOST_IP)', '10.0.0.5'));
      const out = execFileSync(process.execPath, [AGENT, ...args, '--dump-conf'], {
        encoding: 'utf8',
        env: { PATH: process.env.PATH ?? '' },
      });
      assert.match(out, /^node-backend=talos$/m);
      assert.match(out, /^talos-node=10\.0\.0\.5$/m);
      assert.match(out, /^node-name=node-1$/m);
      assert.match(out, /^statedir=\/run\/guestlink\/state$/m);
    });
  }

  test('talos-serviceaccount: a talos.dev/v1alpha1 ServiceAccount with roles [os:operator], its Secret mounted at /var/run/secrets/talos.dev', () => {
    const objs = rendered.get('talos-serviceaccount') ?? [];
    const tsa = objs.find((o) => o.apiVersion === 'talos.dev/v1alpha1');
    assert.ok(tsa);
    assert.equal(tsa.kind, 'ServiceAccount');
    assert.deepEqual(tsa.spec, { roles: ['os:operator'] });
    const pod = daemonSet('talos-serviceaccount').spec.template.spec;
    const vol = pod.volumes.find((v: Obj) => v.secret?.secretName === tsa.metadata.name);
    assert.ok(vol, 'the Talos ServiceAccount Secret (same name) is not mounted');
    assert.equal(tsa.metadata.namespace, daemonSet('talos-serviceaccount').metadata.namespace);
    const mount = pod.containers[0].volumeMounts.find((m: Obj) => m.name === vol.name);
    assert.equal(mount.mountPath, '/var/run/secrets/talos.dev');
    assert.ok(pod.containers[0].args.includes('--talosconfig=/var/run/secrets/talos.dev/config'));
  });

  test('talos-secret: the talosconfig Secret mounted read-only (0400), apid on the node itself', () => {
    const pod = daemonSet('talos-secret').spec.template.spec;
    const vol = pod.volumes.find((v: Obj) => v.secret?.secretName === 'guestlink-talosconfig');
    assert.equal(vol.secret.defaultMode, 0o400);
    assert.ok(pod.containers[0].args.includes('--talos-endpoint=$(HOST_IP)'));
  });

  test('default: privileged only for the device; the device-plugin variant: unprivileged, no capabilities, the resource requested', () => {
    const priv = daemonSet('talos-serviceaccount').spec.template.spec.containers[0];
    assert.equal(priv.securityContext.privileged, true);
    const c = daemonSet('talos-serviceaccount + device-plugin').spec.template.spec.containers[0];
    assert.deepEqual(c.securityContext.capabilities, { drop: ['ALL'] });
    assert.equal(c.securityContext.privileged, false);
    assert.equal(c.securityContext.allowPrivilegeEscalation, false);
    assert.equal(c.securityContext.seccompProfile.type, 'RuntimeDefault');
    assert.equal(c.resources.limits['squat.ai/qemu-guest-agent'], '1');
    assert.ok(!c.volumeMounts.some((m: Obj) => m.mountPath === '/dev/virtio-ports'));
  });

  test('etcd-snapshots: the flag, and the node directory (EPHEMERAL) mounted writable', () => {
    const pod = daemonSet('talos-serviceaccount + etcd-snapshots').spec.template.spec;
    const c = pod.containers[0];
    assert.ok(c.args.includes('--etcd-snapshot-dir=/var/lib/guestlink/etcd-snapshots'));
    const vol = pod.volumes.find((v: Obj) => v.name === 'etcd-snapshots');
    assert.deepEqual(vol.hostPath, { path: '/var/lib/guestlink/etcd-snapshots', type: 'DirectoryOrCreate' });
    const m = c.volumeMounts.find((x: Obj) => x.name === 'etcd-snapshots');
    assert.equal(m.mountPath, '/var/lib/guestlink/etcd-snapshots');
    assert.notEqual(m.readOnly, true);
  });

  test('the guestlink namespace admits the pod: Pod Security level privileged', () => {
    const ns = (rendered.get('talos-secret') ?? []).find((o) => o.kind === 'Namespace' && o.metadata.name === 'guestlink');
    assert.equal(ns?.metadata.labels['pod-security.kubernetes.io/enforce'], 'privileged');
  });

  describe('kubectl apply --dry-run=client', () => {
    let api: DiscoveryDouble;
    let kubeconfig: string;
    before(async () => {
      api = await startDiscoveryDouble();
      kubeconfig = path.join(path.dirname(deploy), 'kubeconfig');
      writeFileSync(
        kubeconfig,
        YAML.stringify({
          apiVersion: 'v1',
          kind: 'Config',
          clusters: [{ name: 'double', cluster: { server: api.url } }],
          users: [{ name: 'nobody', user: {} }],
          contexts: [{ name: 'double', context: { cluster: 'double', user: 'nobody' } }],
          'current-context': 'double',
        }),
      );
    });
    after(async () => {
      await api?.close();
    });

    for (const [name, dir] of Object.entries(VARIANTS)) {
      test(`${name}: accepted, every object "created (dry run)", nothing written to the server`, async () => {
        const before = api.requests.length;
        // --validate=false: schema validation would fetch the server's OpenAPI, which the double does
        // not serve; the kubernetes-models test above validates against the same schemas instead.
        // Asynchronously: the double answers from this very process.
        const { stdout: out } = await promisify(execFile)(
          'kubectl',
          [
            '--kubeconfig',
            kubeconfig,
            '--cache-dir',
            path.join(path.dirname(deploy), 'kube-cache'),
            'apply',
            '--dry-run=client',
            '--validate=false',
            '-k',
            path.join(deploy, dir),
          ],
          { encoding: 'utf8', timeout: 60_000 },
        );
        const lines = out.trim().split('\n');
        assert.equal(lines.length, rendered.get(name)?.length);
        for (const l of lines) assert.match(l, / created \(dry run\)$/);
        assert.ok(lines.includes('daemonset.apps/guestlink created (dry run)'));
        const writes = api.requests.slice(before).filter((r) => !r.startsWith('GET '));
        assert.deepEqual(writes, []);
      });
    }
  });
});
