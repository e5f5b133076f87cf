// The management endpoint end to end: the real agent asks the API double for a serving certificate
// (CSR, external approval), serves QGA over mutual TLS with it, and authorizes each request by
// Kubernetes RBAC through SubjectAccessReviews. openssl checks the served chain.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { KubeApiDouble } from '../doubles/kube-api.js';
import { ClusterCa } from '../doubles/kube-ca.js';
import { type RunningEndpoint, startCluster, startEndpointAgent, TlsQga, until, waitForCsr } from './harness.js';

describe('management endpoint with a certificate from the CSR API', { timeout: 120_000 }, () => {
  let double: KubeApiDouble;
  let ep: RunningEndpoint;
  let ca: string;
  let csrName: string;

  before(async () => {
    double = await startCluster();
    ca = double.clusterCa.cert;
    ep = await startEndpointAgent(double, ['--authz-timeout', '700ms']);
    csrName = await waitForCsr(double);
  });
  after(async () => {
    await ep?.agent.stop();
    await double?.stop();
  });

  test('external approval: the agent waits and says how to approve, in its log and in a Node event', async () => {
    const told = await until(() => ep.lines().find((l) => l.identity === 'approval'));
    assert.ok(told, ep.agent.stderr());
    assert.match(told.msg, new RegExp(`kubectl certificate approve ${csrName}`));
    assert.ok(await until(() => double.events.find((e) => e.reason === 'CertificatePending' && e.message.includes(csrName))));
    const csr = double.certificates.csrs.get(csrName) as Record<string, any>;
    assert.equal(csr.spec.signerName, 'kubernetes.io/kubelet-serving');
    assert.deepEqual(csr.spec.usages, ['digital signature', 'server auth']);
    assert.equal(csr.spec.expirationSeconds, 720 * 3600);
    assert.equal(csr.metadata.labels['guestlink.io/node'], 'n1');
    const request = Buffer.from(csr.spec.request, 'base64').toString('utf8');
    const text = execFileSync('openssl', ['req', '-verify', '-noout', '-text'], { input: request, encoding: 'utf8', stdio: 'pipe' });
    assert.match(text, /Subject: O\s?=\s?system:nodes, CN\s?=\s?system:node:n1/);
    assert.match(text, /DNS:n1.*IP Address:127\.0\.0\.1/);
    // No certificate yet: a handshake cannot succeed.
    const op = double.clusterCa.client('operator');
    await assert.rejects(async () => {
      const c = await TlsQga.connect(ep.port, ca, op);
      const r = await c.request('{"execute":"guest-ping"}');
      c.close();
      if (r === undefined) throw new Error('closed');
    });
  });

  test('once approved, the endpoint serves the issued certificate; openssl verifies the chain against the cluster CA', async () => {
    double.certificates.decide(csrName, 'Approved');
    assert.ok(await until(() => ep.lines().find((l) => l.msg === 'management endpoint serving')), ep.agent.stderr());
    const op = double.clusterCa.client('operator');
    const c = await TlsQga.connect(ep.port, ca, op);
    assert.deepEqual(await c.call('guest-ping'), { return: {} });
    assert.equal(c.sock.getProtocol(), 'TLSv1.3');
    c.close();
    // openssl s_client with the operator's certificate: the served chain verifies against the cluster CA.
    const dir = ep.dir;
    writeFileSync(path.join(dir, 'ca.pem'), ca);
    writeFileSync(path.join(dir, 'op.pem'), op.cert);
    writeFileSync(path.join(dir, 'op.key'), op.key, { mode: 0o600 });
    const out = execFileSync(
      'openssl',
      ['s_client', '-connect', `127.0.0.1:${ep.port}`, '-CAfile', path.join(dir, 'ca.pem'), '-cert', path.join(dir, 'op.pem')].concat([
        '-key',
        path.join(dir, 'op.key'),
        '-verify_return_error',
        '-verify_ip',
        '127.0.0.1',
        '-showcerts',
      ]),
      { input: '{"execute":"guest-ping"}\n', encoding: 'utf8', stdio: 'pipe', timeout: 20_000 },
    );
    assert.match(out, /Verify return code: 0 \(ok\)/);
    assert.match(out, /Protocol\s*: TLSv1\.3|New, TLSv1\.3/);
    // No resumption: a resumed session would skip the client certificate's verification.
    const sClient = (extra: string[]) =>
      execFileSync(
        'openssl',
        ['s_client', '-connect', `127.0.0.1:${ep.port}`, '-CAfile', path.join(dir, 'ca.pem'), '-cert', path.join(dir, 'op.pem')].concat(
          ['-key', path.join(dir, 'op.key')],
          extra,
        ),
        { input: '{"execute":"guest-ping"}\n', encoding: 'utf8', stdio: 'pipe', timeout: 20_000 },
      );
    for (let i = 0; i < 5; i++) {
      const sess = path.join(dir, `session-${i}`);
      sClient(['-sess_out', sess]);
      if (existsSync(sess)) assert.match(sClient(['-sess_in', sess]), /^New, TLSv1\.3/m, 'a saved session is not resumed');
    }
    const served = /-----BEGIN CERTIFICATE-----[\s\S]*?-----END CERTIFICATE-----/.exec(out)?.[0] as string;
    writeFileSync(path.join(dir, 'served.pem'), `${served}\n`);
    assert.match(
      execFileSync('openssl', ['verify', '-CAfile', path.join(dir, 'ca.pem'), '-purpose', 'sslserver', path.join(dir, 'served.pem')], {
        encoding: 'utf8',
      }),
      /OK/,
    );
    const text = execFileSync('openssl', ['x509', '-noout', '-text', '-in', path.join(dir, 'served.pem')], { encoding: 'utf8' });
    assert.match(text, /Subject: O\s?=\s?system:nodes, CN\s?=\s?system:node:n1/);
    assert.match(text, /TLS Web Server Authentication/);
    assert.match(text, /DNS:n1/);
    // Stored 0600 in a 0700 directory; the CSR object is cleaned up.
    const crypto = path.join(dir, 'gst', 'crypto');
    assert.equal(statSync(crypto).mode & 0o777, 0o700);
    for (const f of ['operational.key', 'operational.pem']) assert.equal(statSync(path.join(crypto, f)).mode & 0o777, 0o600, f);
    assert.equal(existsSync(path.join(crypto, 'pending.key')), false);
    assert.ok(await until(() => !double.certificates.csrs.has(csrName)), 'CSR deleted after issuance');
    assert.ok(double.events.some((e) => e.reason === 'CertificateIssued'));
  });

  test('a client certificate from the cluster CA with RBAC update can power off (dry-run); the audit line names the user', async () => {
    const c = await TlsQga.connect(ep.port, ca, double.clusterCa.client('operator', ['ops']));
    const records = path.join(ep.dir, 'gst', 'guestlink-power.jsonl');
    c.send('{"execute":"guest-shutdown","arguments":{"mode":"powerdown"}}');
    assert.ok(await until(() => existsSync(records) && readFileSync(records, 'utf8').includes('\n'), 20_000), ep.agent.stderr());
    c.close();
    assert.equal(JSON.parse(readFileSync(records, 'utf8').trim().split('\n')[0] as string).mode, 'powerdown');
    // The audit line is written when the handler returns, which may be after the power record: wait for it.
    const audit = await until(() => ep.lines().find((l) => l.audit && l.command === 'guest-shutdown' && l.outcome === 'ok'));
    assert.ok(audit, ep.agent.stderr());
    assert.equal(audit.user, 'operator');
    assert.deepEqual(audit.groups, ['ops']);
    const sar = double.certificates.reviews.find((r) => r.kind === 'SubjectAccessReview' && r.spec.resourceAttributes.verb === 'update');
    assert.deepEqual(sar?.spec.resourceAttributes, { verb: 'update', group: '', resource: 'nodes', subresource: 'guestlink', name: 'n1' });
  });

  test('a viewer can read but not power off: the error names nodes/guestlink update', async () => {
    const c = await TlsQga.connect(ep.port, ca, double.clusterCa.client('vic', ['viewers']));
    const info = await c.call('guest-info');
    assert.equal(typeof info?.return?.version, 'string');
    const refused = await c.call('guest-shutdown', { mode: 'reboot' });
    assert.equal(refused?.error?.class, 'GenericError');
    assert.match(refused?.error?.desc, /nodes\/guestlink update/);
    assert.match(refused?.error?.desc, /user "vic"/);
    assert.match(refused?.error?.desc, /guestlink-operator/);
    // The connection stays usable after a denial.
    assert.deepEqual(await c.call('guest-ping'), { return: {} });
    c.close();
    const denied = ep.lines().find((l) => l.audit && l.outcome === 'denied' && l.user === 'vic');
    assert.equal(denied?.command, 'guest-shutdown');
    // Someone with no binding at all may not even ping.
    const nobody = await TlsQga.connect(ep.port, ca, double.clusterCa.client('nobody'));
    assert.match((await nobody.call('guest-ping'))?.error?.desc, /nodes\/guestlink get/);
    nobody.close();
  });

  test('a certificate from another CA is refused during the handshake, and so is a client without one', async () => {
    const other = new ClusterCa('someone-else');
    try {
      for (const creds of [other.client('operator'), undefined]) {
        let reply: string | undefined;
        let failure = '';
        try {
          const c = await TlsQga.connect(ep.port, ca, creds);
          reply = await c.request('{"execute":"guest-ping"}');
          await c.closed;
        } catch (err) {
          failure = String(err);
        }
        assert.equal(reply, undefined, `no reply ${creds ? 'to a foreign certificate' : 'without a certificate'}`);
        if (failure) assert.match(failure, /alert|certificate|ECONNRESET|socket hang up/i);
      }
    } finally {
      other.remove();
    }
  });

  test('API server down: requests are denied (fail closed) within --authz-timeout, then served again', async () => {
    // A user not asked about before: nothing cached.
    const c = await TlsQga.connect(ep.port, ca, double.clusterCa.client('operator', ['night-shift']));
    double.hang = true;
    const t0 = performance.now();
    const r = await c.call('guest-info');
    const took = performance.now() - t0;
    double.hang = false;
    assert.equal(r?.error?.class, 'GenericError');
    // The bound is the agent's own setting, read back from its answer.
    assert.match(r?.error?.desc, /within 700 ms \(denied: fail closed\)/);
    console.log(`# denied after ${took.toFixed(0)} ms with --authz-timeout 700ms`);
    assert.equal(typeof (await c.call('guest-info'))?.return?.version, 'string');
    c.close();
  });

  test('every call the agent made was within the shipped RBAC', () => {
    assert.deepEqual(
      double.requests.filter((r) => r.status === 401 || r.status === 403).map((r) => `${r.method} ${r.path} ${r.status}`),
      [],
    );
  });
});
