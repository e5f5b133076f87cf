// The SubjectAccessReview authorizer: cached decisions answered synchronously, identical reviews
// shared, every resource capped, and an API server that does not answer denies at the bound (mock
// timers drive the real REST client's deadline; no wall clock is measured).
import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { test } from 'node:test';
import pino from 'pino';
import { Authorizer, authenticateToken, Denial, type Principal } from './authorizer.js';
import { type AccessReviewSpec, IdentityApi, type TokenReviewStatus } from './identity-api.js';
import { RestClient } from './rest.js';

const log = pino({ level: 'silent' });
const jane: Principal = { user: 'jane', groups: ['sre'], authenticated: 'certificate' };

/** An IdentityApi whose reviews are answered by `answer` (a function of the spec), counting calls. */
function fakeApi(answer: (s: AccessReviewSpec) => Promise<{ allowed: boolean }> | { allowed: boolean }) {
  const calls: AccessReviewSpec[] = [];
  const api = Object.create(IdentityApi.prototype) as IdentityApi;
  api.subjectAccessReview = async (spec) => {
    calls.push(spec);
    return answer(spec);
  };
  return { api, calls };
}

const options = (api: IdentityApi) => ({
  api,
  nodeName: 'n1',
  timeoutMs: 2000,
  allowedTtlMs: 30_000,
  deniedTtlMs: 5000,
  cacheSize: 3,
  maxPending: 2,
  log,
});

test('an allowed decision is cached: the next check is synchronous and asks nothing', async () => {
  const { api, calls } = fakeApi((s) => ({ allowed: s.resourceAttributes.verb === 'get' }));
  const a = new Authorizer(options(api));
  const first = a.check(jane, 'get', 'guest-ping');
  assert.ok(first instanceof Promise);
  assert.equal(await first, undefined);
  assert.equal(a.check(jane, 'get', 'guest-info'), undefined, 'answered synchronously from the cache');
  assert.equal(calls.length, 1);
  assert.deepEqual(calls[0]?.resourceAttributes, { verb: 'get', group: '', resource: 'nodes', subresource: 'guestlink', name: 'n1' });
  assert.deepEqual([calls[0]?.user, calls[0]?.groups], ['jane', ['sre']]);
  // update is another decision, and it is denied, naming what is missing and the command asked for.
  const d = await a.check(jane, 'update', 'guest-shutdown');
  assert.ok(d instanceof Denial);
  assert.equal(d.code, 'AUTHZ_DENIED');
  assert.match(d.message, /^guest-shutdown refused: user "jane" .* lacks the permission nodes\/guestlink update on node "n1"/);
  assert.match(d.message, /ClusterRole guestlink-operator/);
  // The cached denial names the command of the new request.
  const again = a.check(jane, 'update', 'guest-fsfreeze-freeze');
  assert.ok(again instanceof Denial && again.message.startsWith('guest-fsfreeze-freeze refused'));
  assert.equal(calls.length, 2);
});

test('cache entries expire: denials sooner than allowed decisions', async (t) => {
  t.mock.timers.enable({ apis: ['Date'], now: 1_000_000 });
  const { api, calls } = fakeApi((s) => ({ allowed: s.resourceAttributes.verb === 'get' }));
  const a = new Authorizer(options(api));
  await a.check(jane, 'get', 'x');
  await a.check(jane, 'update', 'x');
  t.mock.timers.tick(5001);
  assert.equal(a.check(jane, 'get', 'x'), undefined, 'allowed still cached');
  assert.ok(a.check(jane, 'update', 'x') instanceof Promise, 'the denial expired: asked again');
  t.mock.timers.tick(25_000);
  assert.ok(a.check(jane, 'get', 'x') instanceof Promise, 'the allowed decision expired too');
  assert.ok(calls.length >= 3);
});

test('identical checks in flight share one review; past --authz-max-pending others are denied at once', async () => {
  const waiting: ((v: { allowed: boolean }) => void)[] = [];
  const { api, calls } = fakeApi(() => new Promise((r) => waiting.push(r)));
  const a = new Authorizer(options(api));
  const p1 = a.check(jane, 'get', 'a');
  const p2 = a.check(jane, 'get', 'b');
  assert.equal(calls.length, 1, 'the same user and verb: one review');
  const p3 = a.check({ ...jane, user: 'bob' }, 'get', 'c');
  assert.equal(a.pending, 2);
  const busy = a.check({ ...jane, user: 'eve' }, 'get', 'guest-ping');
  assert.ok(busy instanceof Denial);
  assert.equal(busy.code, 'AUTHZ_BUSY');
  assert.match(busy.message, /2 authorization checks are already waiting .*--authz-max-pending/);
  for (const w of waiting) w({ allowed: true });
  assert.deepEqual(await Promise.all([p1, p2, p3]), [undefined, undefined, undefined]);
  assert.equal(a.pending, 0);
});

test('the cache holds at most --authz-cache-size decisions, the oldest dropped first', async () => {
  const { api, calls } = fakeApi(() => ({ allowed: true }));
  const a = new Authorizer(options(api));
  for (const user of ['u1', 'u2', 'u3', 'u4']) await a.check({ ...jane, user }, 'get', 'x');
  assert.equal(a.cached, 3);
  assert.equal(a.check({ ...jane, user: 'u4' }, 'get', 'x'), undefined);
  assert.ok(a.check({ ...jane, user: 'u1' }, 'get', 'x') instanceof Promise, 'u1 was evicted');
  assert.equal(calls.length, 5);
});

test('a connection that has not authenticated is refused without asking the API server', () => {
  const { api, calls } = fakeApi(() => ({ allowed: true }));
  const d = new Authorizer(options(api)).check({ user: 'system:anonymous', groups: [], authenticated: false }, 'get', 'guest-ping');
  assert.ok(d instanceof Denial);
  assert.equal(d.code, 'AUTHN_REQUIRED');
  assert.match(d.message, /guestlink-authenticate/);
  assert.equal(calls.length, 0);
});

test('an API server that does not answer: denied when the bound passes (mock timers), and not cached', async (t) => {
  const hung: http.ServerResponse[] = [];
  const server = http.createServer((_req, res) => hung.push(res));
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const rest = new RestClient({ server: `http://127.0.0.1:${(server.address() as AddressInfo).port}` });
  t.after(async () => {
    rest.close();
    for (const r of hung) r.destroy();
    await new Promise((r) => server.close(r));
  });
  t.mock.timers.enable({ apis: ['setTimeout'] });
  const a = new Authorizer({ ...options(new IdentityApi(rest)), timeoutMs: 1500 });
  let settled: Denial | undefined | 'pending' = 'pending';
  const p = a.check(jane, 'get', 'guest-info') as Promise<Denial | undefined>;
  p.then((d) => (settled = d));
  // Let the request reach the server, then move the clock to just before and just past the bound.
  while (hung.length === 0) await new Promise((r) => setImmediate(r));
  t.mock.timers.tick(1499);
  await new Promise((r) => setImmediate(r));
  assert.equal(settled, 'pending', 'still waiting before the bound');
  t.mock.timers.tick(1);
  const d = await p;
  assert.ok(d instanceof Denial);
  assert.equal(d.code, 'AUTHZ_UNAVAILABLE');
  assert.match(d.message, /within 1500 ms \(denied: fail closed\)/);
  assert.equal(a.cached, 0, 'an unanswered review is not cached');
});

test("bearer tokens: TokenReview for guestlink's audience; another audience, an unknown token or garbage is refused", async () => {
  const statuses: Record<string, TokenReviewStatus> = {
    good: { authenticated: true, user: { username: 'ci', uid: 'u-ci', groups: ['deployers'] }, audiences: ['guestlink'] },
    'api-audience': {
      authenticated: false,
      error: 'token audiences ["https://kubernetes.default.svc"] is invalid for the target audiences ["guestlink"]',
    },
    sneaky: { authenticated: true, user: { username: 'x' }, audiences: ['something-else'] },
  };
  const asked: string[][] = [];
  const api = Object.create(IdentityApi.prototype) as IdentityApi;
  api.tokenReview = async (token, audiences) => {
    asked.push([...audiences]);
    return statuses[token] ?? { authenticated: false };
  };
  const o = { api, audience: 'guestlink', timeoutMs: 1000 };
  assert.deepEqual(await authenticateToken(o, 'good'), { user: 'ci', groups: ['deployers'], uid: 'u-ci', authenticated: 'token' });
  for (const token of ['api-audience', 'sneaky', 'unknown']) {
    const r = await authenticateToken(o, token);
    assert.ok(r instanceof Denial, token);
    assert.match(r.message, /audience "guestlink"/);
  }
  assert.ok(asked.every((a) => a.length === 1 && a[0] === 'guestlink'));
  const before = asked.length;
  for (const bad of ['', 'a b', 'x'.repeat(16 * 1024 + 1)]) assert.ok((await authenticateToken(o, bad)) instanceof Denial);
  assert.equal(asked.length, before, 'garbage never reaches the API server');
});
