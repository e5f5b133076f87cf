// Attacks on the management endpoint (--listen tls://), against the real agent and the API double:
// garbage before and after the handshake, TLS 1.2 and renegotiation, a client chain too long or too
// large, tokens for another audience, reviews that never come back, too many reviews at once, and a
// principal that tries to change in the middle of a connection. After each, the agent still serves.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { KubeApiDouble } from '../doubles/kube-api.js';
import { API_AUDIENCE } from '../doubles/kube-certificates.js';
import { openRaw, pingOverTls, type RunningEndpoint, startCluster, startEndpointAgent, TlsQga, until } from '../identity/harness.js';

describe('management endpoint under attack', { timeout: 120_000 }, () => {
  let double: KubeApiDouble;
  let ep: RunningEndpoint;
  let ca: string;

  /** The agent still answers an honest operator. */
  const stillServes = async () => {
    const c = await TlsQga.connect(ep.port, ca, double.clusterCa.client('operator'));
    assert.deepEqual(await c.call('guest-ping'), { return: {} });
    c.close();
    assert.ok(ep.agent.alive());
  };

  before(async () => {
    double = await startCluster({ selfApprove: true });
    ca = double.clusterCa.cert;
    double.certificates.tokens.set('ci-token', { user: 'ci', groups: ['viewers'], audiences: ['guestlink'] });
    double.certificates.tokens.set('op-token', { user: 'operator', groups: [], audiences: ['guestlink'] });
    double.certificates.tokens.set('api-token', { user: 'operator', groups: [], audiences: [API_AUDIENCE] });
    ep = await startEndpointAgent(double, [
      '--csr-approve',
      'self',
      '--listen-tokens',
      '--listen-handshake-timeout',
      '1s',
      '--authz-timeout',
      '500ms',
      '--authz-max-pending',
      '2',
      '--authz-cache-ttl',
      '0',
    ]);
    assert.ok(await until(() => ep.lines().find((l) => l.msg === 'management endpoint serving')), ep.agent.stderr());
  });
  after(async () => {
    await ep?.agent.stop();
    await double?.stop();
  });

  test('garbage instead of a ClientHello: the connection is closed, nothing is answered', async () => {
    for (const junk of ['GET / HTTP/1.1\r\nHost: x\r\n\r\n', '{"execute":"guest-shutdown"}\n', Buffer.alloc(70_000, 0x16)]) {
      const reply = await (await openRaw(ep.port, junk)).closed;
      assert.doesNotMatch(reply.toString('latin1'), /return|error/, 'no QGA reply');
    }
    await stillServes();
  });

  test('garbage inside TLS is a QGA parse error; raw bytes outside TLS records end only that connection', async () => {
    const c = await TlsQga.connect(ep.port, ca, double.clusterCa.client('operator'));
    const r = await c.request('{"execute": nonsense}');
    assert.match(r ?? '', /"class": "GenericError"/);
    assert.deepEqual(await c.call('guest-ping'), { return: {} });
    // Bytes written under TLS, straight on the TCP socket: a bad record for the server.
    const { sock: raw } = await openRaw(ep.port);
    const other = await TlsQga.connect(ep.port, ca, double.clusterCa.client('operator'), { socket: raw });
    assert.deepEqual(await other.call('guest-ping'), { return: {} });
    raw.write(Buffer.from('\x17\x03\x03\x00\x10not-a-tls-record'));
    await other.closed;
    assert.deepEqual(
      await c.call('guest-ping'),
      { return: {} },
      `the first connection is unaffected; agent alive: ${ep.agent.alive()}\n${ep.agent.stderr().slice(-3000)}`,
    );
    c.close();
    await stillServes();
  });

  test('TLS 1.2 is refused; a TLS 1.3 connection cannot renegotiate', async () => {
    await assert.rejects(
      TlsQga.connect(ep.port, ca, double.clusterCa.client('operator'), { maxVersion: 'TLSv1.2' }),
      /protocol version|alert/i,
    );
    const c = await TlsQga.connect(ep.port, ca, double.clusterCa.client('vic', ['viewers']));
    const result = await new Promise<Error | null | 'refused'>((resolve) => {
      const started = c.sock.renegotiate({ rejectUnauthorized: true }, (err) => resolve(err));
      if (!started) resolve('refused');
    });
    assert.ok(result !== null, 'no renegotiation took place');
    // The connection is either still the same viewer or gone; never someone else.
    const r = await c.call('guest-shutdown').catch(() => undefined);
    if (r) assert.match(r.error?.desc, /user "vic"/);
    c.close();
    await stillServes();
  });

  test("a client chain longer than 5 certificates is refused; one over OpenSSL's 100 KiB is refused in the handshake", async () => {
    const deep = double.clusterCa.deepChain('operator', 7);
    assert.equal(await pingOverTls(ep.port, ca, deep), undefined);
    assert.ok(await until(() => ep.lines().find((l) => /chain longer than 5/.test(l.msg ?? ''))), ep.agent.stderr());
    // ~140 KiB of certificates in one Certificate message.
    const op = double.clusterCa.client('operator');
    const huge = { key: op.key, cert: op.cert + ca.repeat(Math.ceil(140_000 / ca.length)) };
    assert.ok((await pingOverTls(ep.port, ca, huge)) === undefined, 'no session with a 140 KiB chain');
    await stillServes();
  });

  test("tokens: one for the API server's audience is refused; nothing runs before authenticating; a good one works once", async () => {
    const c = await TlsQga.connect(ep.port, ca);
    assert.match(
      (await c.call('guest-ping'))?.error?.desc,
      /has not authenticated; present a client certificate, or send guestlink-authenticate/,
    );
    const wrong = await c.call('guestlink-authenticate', { token: 'api-token' });
    assert.match(wrong?.error?.desc, /not accepted for audience "guestlink".*kubectl create token NAME --audience guestlink/);
    const review = double.certificates.reviews.filter((r) => r.kind === 'TokenReview').at(-1);
    assert.deepEqual(review?.spec.audiences, ['guestlink']);
    assert.match(review?.status.error, /is invalid for the target audiences/);
    assert.deepEqual(await c.call('guestlink-authenticate', { token: 'ci-token' }), { return: {} });
    assert.equal(typeof (await c.call('guest-info'))?.return?.version, 'string');
    assert.match((await c.call('guest-shutdown'))?.error?.desc, /user "ci" .*nodes\/guestlink update/);
    c.close();
  });

  test('a principal cannot change in the middle of a connection', async () => {
    // A viewer's certificate, then an operator's token: refused, and the connection stays the viewer.
    const v = await TlsQga.connect(ep.port, ca, double.clusterCa.client('vic', ['viewers']));
    const r = await v.call('guestlink-authenticate', { token: 'op-token' });
    assert.match(r?.error?.desc, /already authenticated as "vic" \(by certificate\); its identity cannot change/);
    assert.match((await v.call('guest-shutdown'))?.error?.desc, /user "vic"/);
    v.close();
    // A token connection: the first identity stays.
    const t = await TlsQga.connect(ep.port, ca);
    assert.deepEqual(await t.call('guestlink-authenticate', { token: 'ci-token' }), { return: {} });
    assert.match(
      (await t.call('guestlink-authenticate', { token: 'op-token' }))?.error?.desc,
      /already authenticated as "ci" \(by token\)/,
    );
    assert.match((await t.call('guest-shutdown'))?.error?.desc, /user "ci"/);
    t.close();
    const audit = ep.lines().filter((l) => l.audit && l.command === 'guestlink-authenticate' && l.outcome === 'denied');
    assert.ok(audit.length >= 2);
  });

  test('a connection without a certificate that never authenticates is closed after the handshake timeout', async () => {
    const c = await TlsQga.connect(ep.port, ca);
    await c.closed;
    assert.ok(ep.lines().some((l) => l.msg === 'connection closed: it did not authenticate in time'));
  });

  test('reviews that never come back: denied at the bound; beyond --authz-max-pending denied at once', async () => {
    const users = ['u1', 'u2', 'u3', 'u4'];
    const conns = await Promise.all(users.map((u) => TlsQga.connect(ep.port, ca, double.clusterCa.client(u, ['viewers']))));
    double.certificates.hangReviews = true;
    try {
      const replies = await Promise.all(conns.map((c) => c.call('guest-ping')));
      const descs = replies.map((r) => String(r?.error?.desc));
      assert.equal(descs.filter((d) => /within 500 ms \(denied: fail closed\)/.test(d)).length, 2, descs.join('\n'));
      assert.equal(descs.filter((d) => /2 authorization checks are already waiting/.test(d)).length, 2, descs.join('\n'));
    } finally {
      double.certificates.hangReviews = false;
      for (const c of conns) c.close();
    }
    await stillServes();
  });

  test('every call the agent made stayed within the shipped RBAC (self approval included)', () => {
    assert.deepEqual(
      double.requests.filter((r) => r.status === 401 || r.status === 403).map((r) => `${r.method} ${r.path}`),
      [],
    );
  });
});
