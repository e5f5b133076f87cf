// The real agent with the Kubernetes lifecycle on (the API double, through a kubeconfig) and etcd
// snapshots on an etcd that is not there: the failed snapshot becomes a Warning Event on the Node
// with the reason, besides the QGA error. (The on-demand command is used: the freeze path takes the
// same snapshot through the same wrapper, and freezing this machine's filesystems is not an option.)
import assert from 'node:assert/strict';
import path from 'node:path';
import { after, test } from 'node:test';
import { KubeApiDouble } from '../doubles/kube-api.js';
import { makeTempDir } from '../peer/harness.js';
import { qga, show } from '../talos/helpers.js';
import { startKubeAgent, until } from './setup.js';

const double = await new KubeApiDouble({ tls: true }).start();
after(() => double.stop());

test('a failed etcd snapshot is a Warning event EtcdSnapshotFailed on the Node', async (t) => {
  const dir = makeTempDir('guestlink-kube-etcd-');
  double.addNode('cp-1');
  const agent = await startKubeAgent(double, dir, 'cp-1', [
    '--etcd-snapshot-dir',
    path.join(dir, 'snaps'),
    '--etcd-snapshot-on-demand',
    '--etcd-endpoints',
    'http://127.0.0.1:1',
  ]);
  t.after(() => agent.stop());
  const r = await qga(agent.socket, 'guestlink-etcd-snapshot', undefined, 10_000);
  assert.ok('error' in r && /unreachable/.test(r.error.desc), show(r));
  assert.ok(await until(() => double.events.some((e) => e.reason === 'EtcdSnapshotFailed'), 10_000), agent.stderr());
  const ev = double.events.find((e) => e.reason === 'EtcdSnapshotFailed') as Record<string, any>;
  assert.equal(ev.type, 'Warning');
  assert.equal(ev.involvedObject.name, 'cp-1');
  assert.match(ev.message, /^etcd snapshot on request \(guestlink-etcd-snapshot\) failed: etcd at http:\/\/127\.0\.0\.1:1 unreachable/);
});
