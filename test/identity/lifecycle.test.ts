// The operational certificate over time, with the real agent and the API double: renewal at two
// thirds of the lifetime under an open connection, a denied renewal (the old certificate stays in
// use), self approval that refuses a request that is not the agent's own, and a restart while a
// request waits for approval (the same CSR is picked up again, no second one is filed).
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { test } from 'node:test';
import { makeTempDir } from '../peer/harness.js';
import { startCluster, startEndpointAgent, TlsQga, until, waitForCsr } from './harness.js';

// The signer caps every certificate at 9 s (kube-controller-manager's --cluster-signing-duration), with
// no backdating: renewal falls due 6 s after issuance.
const SHORT = { durationSeconds: 9, backdateSeconds: 0 };

test('renewal at two thirds of the lifetime swaps the certificate under an open connection; no request is dropped', {
  timeout: 60_000,
}, async (t) => {
  const double = await startCluster({ selfApprove: true, signer: SHORT });
  const ep = await startEndpointAgent(double, ['--csr-approve', 'self']);
  t.after(async () => {
    await ep.agent.stop();
    await double.stop();
  });
  assert.ok(await until(() => ep.lines().find((l) => l.msg === 'management endpoint serving')), ep.agent.stderr());
  const op = double.clusterCa.client('operator');
  const c1 = await TlsQga.connect(ep.port, double.clusterCa.cert, op);
  const first = c1.serverSerial();
  // Ping on the open connection all the way through the swap.
  let answered = 0;
  let sent = 0;
  const swapped = () => ep.lines().find((l) => l.msg === 'management endpoint certificate swapped');
  while (!swapped()) {
    sent++;
    const r = await c1.call('guest-ping');
    if (JSON.stringify(r) === '{"return":{}}') answered++;
    if (sent > 2000) break;
    await new Promise((r) => setTimeout(r, 20));
  }
  assert.ok(swapped(), `renewed within the test's time: ${ep.agent.stderr()}`);
  for (let i = 0; i < 5; i++) {
    sent++;
    if (JSON.stringify(await c1.call('guest-ping')) === '{"return":{}}') answered++;
  }
  assert.equal(answered, sent, 'every request on the open connection was answered, before, during and after the swap');
  assert.equal(c1.serverSerial(), first, 'the open connection keeps its session');
  const c2 = await TlsQga.connect(ep.port, double.clusterCa.cert, op);
  assert.notEqual(c2.serverSerial(), first, 'a new connection gets the new certificate');
  assert.deepEqual(await c2.call('guest-ping'), { return: {} });
  c1.close();
  c2.close();
  // Both requests were approved by the agent itself, and each CSR was deleted once issued.
  const approvals = double.requests.filter((r) => r.method === 'PUT' && r.path.endsWith('/approval') && r.status === 200);
  assert.ok(approvals.length >= 2);
  assert.ok(await until(() => double.certificates.csrs.size <= 1), 'issued CSRs are cleaned up');
  const renewed = ep.lines().find((l) => l.kube === 'CertificateIssued' && /renewed/.test(l.msg));
  assert.ok(renewed, 'the renewal is in the log (and a Node event)');
});

test('a denied renewal is an event and an error line; the endpoint keeps the old certificate until it expires', {
  timeout: 60_000,
}, async (t) => {
  const double = await startCluster({ signer: SHORT });
  const ep = await startEndpointAgent(double);
  t.after(async () => {
    await ep.agent.stop();
    await double.stop();
  });
  const first = await waitForCsr(double);
  double.certificates.decide(first, 'Approved');
  assert.ok(await until(() => ep.lines().find((l) => l.msg === 'management endpoint serving')), ep.agent.stderr());
  const c1 = await TlsQga.connect(ep.port, double.clusterCa.cert, double.clusterCa.client('operator'));
  const serial = c1.serverSerial();
  c1.close();
  // The renewal's request comes at ~6 s; an administrator denies it.
  const second = await until(() => [...double.certificates.csrs.keys()].find((n) => n !== first), 20_000);
  assert.ok(second, 'a renewal request was filed');
  double.certificates.decide(second, 'Denied', 'NotThisOne');
  const event = await until(() => double.events.find((e) => e.reason === 'CertificateDenied'));
  assert.ok(event, ep.agent.stderr());
  assert.match(event.message, new RegExp(`CSR ${second} was denied \\(NotThisOne`));
  assert.match(event.message, new RegExp(`keeps serving certificate ${serial}`));
  assert.equal(event.type, 'Warning');
  const c2 = await TlsQga.connect(ep.port, double.clusterCa.cert, double.clusterCa.client('operator'));
  assert.equal(c2.serverSerial(), serial, 'still the old certificate');
  assert.deepEqual(await c2.call('guest-ping'), { return: {} });
  c2.close();
});

test('self approval refuses a request that is not its own (replaced between creation and approval)', { timeout: 60_000 }, async (t) => {
  const double = await startCluster({ selfApprove: true });
  // An attacker with the same rights swaps the request's content right after the agent created it:
  // another key, another node's name.
  const foreign = execFileSync(
    'openssl',
    ['req', '-new', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', '/dev/null'].concat([
      '-subj',
      '/O=system:nodes/CN=system:node:control-plane-1',
      '-addext',
      'subjectAltName=DNS:control-plane-1,IP:127.0.0.1',
    ]),
    { encoding: 'utf8', stdio: 'pipe' },
  );
  // The name is taken here: the agent refuses and deletes the request within milliseconds, possibly
  // before a poll of the double's CSRs would see it.
  let name: string | undefined;
  double.certificates.onCreated = (csr) => {
    name = csr.metadata.name;
    csr.spec.request = Buffer.from(foreign).toString('base64');
    double.certificates.put(csr);
  };
  const ep = await startEndpointAgent(double, ['--csr-approve', 'self']);
  t.after(async () => {
    await ep.agent.stop();
    await double.stop();
  });
  assert.ok(await until(() => name), 'the agent created a CSR');
  const event = await until(() => double.events.find((e) => e.reason === 'CertificateFailed'));
  assert.ok(event, ep.agent.stderr());
  assert.match(event.message, new RegExp(`refusing to approve CSR ${name}: its public key is not the key this node generated`));
  assert.equal(double.requests.filter((r) => r.path.endsWith('/approval')).length, 0, 'no approval was sent');
  assert.equal(
    ep.lines().some((l) => l.msg === 'management endpoint serving'),
    false,
  );
});

test('an agent restarted while its request waits for approval picks the same CSR up again', { timeout: 60_000 }, async (t) => {
  const double = await startCluster();
  const dir = makeTempDir('guestlink-endpoint-restart-');
  let ep = await startEndpointAgent(double, [], dir);
  t.after(async () => {
    await ep.agent.stop();
    await double.stop();
  });
  const name = await waitForCsr(double);
  await ep.agent.stop();
  ep = await startEndpointAgent(double, [], dir);
  assert.ok(await until(() => ep.lines().find((l) => l.identity === 'resume' && l.csr === name)), ep.agent.stderr());
  double.certificates.decide(name, 'Approved');
  assert.ok(await until(() => ep.lines().find((l) => l.msg === 'management endpoint serving')), ep.agent.stderr());
  assert.equal(
    double.requests.filter((r) => r.method === 'POST' && r.path.endsWith('/certificatesigningrequests')).length,
    1,
    'one CSR only',
  );
  const c = await TlsQga.connect(ep.port, double.clusterCa.cert, double.clusterCa.client('vic', ['viewers']));
  assert.deepEqual(await c.call('guest-ping'), { return: {} });
  c.close();
});
