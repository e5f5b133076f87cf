// In-cluster identity against the TLS double: the service account's token, ca.crt and the
// kubelet's service address, as a DaemonSet pod sees them.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { KubeApi } from '../../src/kube/api.js';
import { resolveIdentity } from '../../src/kube/identity.js';
import { RestClient } from '../../src/kube/rest.js';
import { KubeApiDouble, SA_TOKEN } from '../doubles/kube-api.js';

test('in-cluster: token and CA from the service-account directory, NODE_NAME required', async (t) => {
  const double = await new KubeApiDouble({ tls: true }).start();
  const dir = mkdtempSync(path.join(os.tmpdir(), 'guestlink-sa-'));
  t.after(async () => {
    await double.stop();
    rmSync(dir, { recursive: true, force: true });
  });
  double.addNode('n1');
  writeFileSync(path.join(dir, 'token'), `${SA_TOKEN}\n`);
  writeFileSync(path.join(dir, 'ca.crt'), double.ca as string);
  const serviceAddress = new URL(double.url).host;
  await assert.rejects(
    resolveIdentity('in-cluster', { kube: 'in-cluster', serviceAccountDir: dir, serviceAddress }),
    /needs the node name: set NODE_NAME/,
  );
  const id = await resolveIdentity('in-cluster', { kube: 'in-cluster', serviceAccountDir: dir, serviceAddress, nodeName: 'n1' });
  const rest = new RestClient(id.conn);
  t.after(() => rest.close());
  const api = new KubeApi(rest);
  assert.equal((await api.getNode('n1', 2000)).metadata.name, 'n1');
  // Outside the shipped rules: the double answers 403, and the error says what to do.
  await assert.rejects(
    rest.call('DELETE', '/api/v1/nodes/n1', { timeoutMs: 2000 }),
    /HTTP 403: nodes "n1" is forbidden.*apply deploy\/kubernetes\/rbac.yaml/,
  );
  await assert.rejects(rest.call('GET', '/api/v1/namespaces/kube-system/pods/x', { timeoutMs: 2000 }), /HTTP 403/);
  await assert.rejects(
    rest.call('POST', '/api/v1/namespaces/kube-system/events', { body: {}, timeoutMs: 2000 }),
    /HTTP 403.*in the namespace "kube-system"/,
  );
  // A server certificate from another CA is refused.
  const wrong = new RestClient({ ...id.conn, ca: undefined });
  t.after(() => wrong.close());
  await assert.rejects(
    wrong.call('GET', '/api/v1/nodes/n1', { timeoutMs: 2000 }),
    (e: Error & { code?: string }) => e.code === 'KUBE_UNREACHABLE' && /certificate/.test(e.message),
  );
});
