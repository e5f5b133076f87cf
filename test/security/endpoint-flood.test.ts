// Floods on the management endpoint: connections that never start or finish a handshake hold a slot
// for at most --listen-handshake-timeout, never more than --listen-max-connections are open at once
// (the rest are closed on accept), and an honest client gets in once the flood is over; the agent's
// memory stays bounded throughout.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { accepted, openRaw, pingOverTls, startCluster, startEndpointAgent, TlsQga, until } from '../identity/harness.js';

test('connection cap and handshake timeout hold under a flood; the endpoint serves again afterwards', { timeout: 90_000 }, async (t) => {
  const double = await startCluster({ selfApprove: true });
  const ep = await startEndpointAgent(double, [
    '--csr-approve',
    'self',
    '--listen-max-connections',
    '4',
    '--listen-handshake-timeout',
    '500ms',
  ]);
  t.after(async () => {
    await ep.agent.stop();
    await double.stop();
  });
  assert.ok(await until(() => ep.lines().find((l) => l.msg === 'management endpoint serving')), ep.agent.stderr());
  const ca = double.clusterCa.cert;
  const op = double.clusterCa.client('operator');

  // Four silent connections take every slot.
  const silent = await Promise.all([0, 1, 2, 3].map(() => openRaw(ep.port)));
  // The server counts a connection once it has accepted it: wait until the kernel says all four are.
  assert.ok(
    await until(() =>
      accepted(
        ep.port,
        silent.map((s) => s.sock),
      ),
    ),
    'the agent accepts the four silent connections',
  );
  const refused = (await pingOverTls(ep.port, ca, op)) === undefined;
  assert.ok(refused, 'a fifth connection is closed at once');
  assert.ok(await until(() => ep.lines().find((l) => l.msg === 'connection refused: at the connection cap')), ep.agent.stderr());
  // The handshake timeout frees the slots.
  await Promise.all(silent.map((s) => s.closed));

  // 300 connections with half a ClientHello each, in waves as fast as the cap lets them in.
  const rssBefore = ep.agent.rssKiB() ?? 0;
  let peak = rssBefore;
  const sampler = setInterval(() => (peak = Math.max(peak, ep.agent.rssKiB() ?? 0)), 20);
  const partialHello = Buffer.from([0x16, 0x03, 0x01, 0x02, 0x00, 0x01, 0x00, 0x01, 0xfc, 0x03, 0x03, ...Array(40).fill(7)]);
  try {
    const flood = await Promise.all(Array.from({ length: 300 }, () => openRaw(ep.port, partialHello)));
    await Promise.all(flood.map((f) => f.closed));
  } finally {
    clearInterval(sampler);
  }
  t.diagnostic(`agent RSS ${rssBefore} KiB before the flood, ${peak} KiB at its peak`);
  assert.ok(peak - rssBefore < 64 * 1024, `RSS grew by ${peak - rssBefore} KiB`);
  const c = await TlsQga.connect(ep.port, ca, op);
  assert.deepEqual(await c.call('guest-ping'), { return: {} });
  c.close();
  assert.ok(ep.agent.alive());
});
