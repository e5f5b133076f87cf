// gRPC is loaded for etcd snapshots only when one is taken: not on a worker (no etcd found), not at
// the start of a control-plane agent, only with its first snapshot. @grpc/grpc-js is CommonJS, so
// once loaded it is in require.cache. (Nothing else in this test process loads gRPC.)
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, test } from 'node:test';
import { startAgent } from '../../src/agent/main.js';
import { QgaClient, type QgaRemoteError } from '../../src/host/client.js';
import { testAgentArgs } from '../peer/harness.js';

const require = createRequire(import.meta.url);
const grpcLoaded = () => Object.keys(require.cache).some((k) => k.includes(`${path.sep}@grpc${path.sep}grpc-js${path.sep}`));
const dir = mkdtempSync(path.join(tmpdir(), 'guestlink-etcd-lazy-'));
after(() => rmSync(dir, { recursive: true, force: true }));

test('a worker with --etcd-snapshot-dir loads nothing; a control plane loads gRPC with its first snapshot', async () => {
  const worker = await startAgent(
    testAgentArgs(dir, 'worker', ['--node-backend', 'linux', '--etcd-snapshot-dir', path.join(dir, 'w')]),
    {},
  );
  await worker?.close();
  assert.equal(grpcLoaded(), false, 'a worker');
  // Nothing listens on port 1: the snapshot fails, but only after loading the client.
  const args = [
    '--node-backend',
    'linux',
    '--etcd-snapshot-dir',
    path.join(dir, 'cp'),
    '--etcd-snapshot-on-demand',
    '--etcd-endpoints',
    'http://127.0.0.1:1',
  ];
  const cp = await startAgent(testAgentArgs(dir, 'cp', args), {});
  try {
    assert.equal(grpcLoaded(), false, 'a control plane, before any snapshot');
    const c = await QgaClient.connectUnix(path.join(dir, 'cp.sock'));
    try {
      await assert.rejects(c.call('guestlink-etcd-snapshot', {}, { timeoutMs: 10_000 }), (e: QgaRemoteError) => /unreachable/.test(e.desc));
    } finally {
      c.close();
    }
    assert.equal(grpcLoaded(), true, 'after the first snapshot');
  } finally {
    await cp?.close();
  }
});
