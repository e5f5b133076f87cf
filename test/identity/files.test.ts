// --identity files: the serving certificate comes from files someone else renews (cert-manager);
// the agent serves it, and picks up a new pair when the files change.
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import pino from 'pino';
import { ServingFiles } from '../../src/kube/serving-files.js';
import { makeTempDir } from '../peer/harness.js';
import { startCluster, startEndpointAgent, TlsQga, until } from './harness.js';

test('--identity files: the endpoint serves the given certificate; no CSR is made', { timeout: 60_000 }, async (t) => {
  const double = await startCluster();
  const dir = makeTempDir('guestlink-endpoint-files-');
  const serving = double.clusterCa.issue('n1-serving', '/O=cert-manager/CN=n1.example', 'serving', 'DNS:n1,IP:127.0.0.1');
  writeFileSync(path.join(dir, 'tls.crt'), serving.cert);
  writeFileSync(path.join(dir, 'tls.key'), serving.key, { mode: 0o600 });
  const ep = await startEndpointAgent(double, ['--tls-cert', path.join(dir, 'tls.crt'), '--tls-key', path.join(dir, 'tls.key')], dir);
  t.after(async () => {
    await ep.agent.stop();
    await double.stop();
  });
  assert.ok(await until(() => ep.lines().find((l) => l.msg === 'management endpoint serving')), ep.agent.stderr());
  const c = await TlsQga.connect(ep.port, double.clusterCa.cert, double.clusterCa.client('operator'));
  assert.deepEqual(await c.call('guest-ping'), { return: {} });
  assert.equal(c.sock.getPeerCertificate().subject.CN, 'n1.example');
  c.close();
  assert.equal(double.certificates.csrs.size, 0);
  assert.equal(double.requests.filter((r) => r.path.includes('certificatesigningrequests')).length, 0);
});

test('a changed pair is read again and handed on; a broken one is logged and the old one kept', async (t) => {
  const double = await startCluster();
  t.after(() => double.stop());
  const dir = makeTempDir('guestlink-files-watch-');
  const [certFile, keyFile] = [path.join(dir, 'tls.crt'), path.join(dir, 'tls.key')];
  const write = (p: { cert: string; key: string }) => {
    writeFileSync(certFile, p.cert);
    writeFileSync(keyFile, p.key, { mode: 0o600 });
  };
  const first = double.clusterCa.issue('a', '/CN=a', 'serving', 'DNS:n1');
  write(first);
  const lines: Record<string, any>[] = [];
  const files = new ServingFiles(certFile, keyFile, pino({ level: 'info' }, { write: (s: string) => lines.push(JSON.parse(s)) }), 20);
  t.after(() => files.stop());
  const seen: string[] = [files.load().serial];
  files.watch((c) => seen.push(c.serial));
  // A key that does not belong to the certificate: refused, nothing handed on.
  const second = double.clusterCa.issue('b', '/CN=b', 'serving', 'DNS:n1');
  writeFileSync(certFile, second.cert);
  assert.ok(await until(() => lines.find((l) => /cannot be used; keeping the certificate in use/.test(l.msg))));
  assert.equal(seen.length, 1);
  write(second);
  assert.ok(await until(() => seen.length === 2));
  assert.notEqual(seen[1], seen[0]);
});
