// gRPC is loaded only with the Talos back end: an agent on the Linux back end must not pay for it
// (DESIGN.md: ~60 ms and ~12 MB). @grpc/grpc-js is CommonJS, so once loaded it is in require.cache.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, test } from 'node:test';
import { startAgent } from '../../src/agent/main.js';
import { testAgentArgs } from '../peer/harness.js';

const require = createRequire(import.meta.url);
const grpcLoaded = () => Object.keys(require.cache).some((k) => k.includes(`${path.sep}@grpc${path.sep}grpc-js${path.sep}`));
const dir = mkdtempSync(path.join(tmpdir(), 'guestlink-talos-lazy-'));
after(() => rmSync(dir, { recursive: true, force: true }));

function args(name: string, backend: string): string[] {
  return testAgentArgs(dir, name, ['--node-backend', backend, '--talos-socket', path.join(dir, 'absent.sock')]);
}

test('the Linux back end does not load gRPC; the Talos back end does', async () => {
  const linux = await startAgent(args('linux', 'linux'), {});
  try {
    assert.equal(grpcLoaded(), false);
  } finally {
    await linux?.close();
  }
  const talos = await startAgent(args('talos', 'talos'), {});
  try {
    assert.equal(grpcLoaded(), true);
  } finally {
    await talos?.close();
  }
});
