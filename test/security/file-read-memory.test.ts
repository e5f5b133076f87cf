// Memory: 64 MiB read with guest-file-read in 4 MiB chunks (what `guestlink cp` and bench/ do) must not pile
// up read and reply buffers (issue 16: peak RSS during these reads at most 64 MB). Before the reply buffers
// were reused (protocol/qga/json-reply.ts) the agent went from ~48 MB idle to 97-105 MB during the reads;
// now each 4 MiB read lands in its reply's buffer, which the next read reuses. The RSS is sampled from
// /proc/PID/status like exec-flood; the assertion is on growth over idle (Node's own floor varies by build
// and machine), the absolute figures go to the diagnostics.
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { QgaClient } from '../../src/host/client.js';
import { makeTempDir, type Peer, startGuestlink } from '../peer/harness.js';

const MiB = 1 << 20;
const FILE_BYTES = 64 * MiB;
const CHUNK = 4 * MiB;
/**
 * Growth over idle allowed during the reads: one 4 MiB read lives in its 5.6 MiB reply buffer, reused
 * read after read; measured 6-12 MiB here. The margin is for the collector's timing under load.
 */
const GROWTH_CEILING_MIB = 32;

describe('guest-file-read memory', { timeout: 120_000 }, () => {
  const dir = makeTempDir('guestlink-sec-read-mem-');
  const file = path.join(dir, 'data');
  const data = randomBytes(FILE_BYTES);
  let agent: Peer;
  let client: QgaClient;

  before(async () => {
    writeFileSync(file, data);
    agent = await startGuestlink(dir, ['--allow-file-read', `${dir}/`]);
    client = await QgaClient.connectUnix(agent.socket);
  });
  after(async () => {
    client?.close();
    await agent?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  test('64 MiB in 4 MiB chunks, three times: the data is exact and RSS grows by little over idle', async (t) => {
    // Idle: after a ping, so that everything the first request loads is loaded.
    await client.call('guest-ping');
    const idle = (agent.rssKiB() ?? 0) / 1024;
    let peak = idle;
    const timer = setInterval(() => {
      peak = Math.max(peak, (agent.rssKiB() ?? 0) / 1024);
    }, 10);
    try {
      for (let round = 0; round < 3; round++) {
        const handle = (await client.call('guest-file-open', { path: file, mode: 'r' })) as number;
        const hash = createHash('sha256');
        let total = 0;
        for (;;) {
          const r = (await client.call('guest-file-read', { handle, count: CHUNK }, { timeoutMs: 30_000 })) as {
            count: number;
            'buf-b64': string;
            eof: boolean;
          };
          const bytes = Buffer.from(r['buf-b64'], 'base64');
          assert.equal(bytes.length, r.count);
          hash.update(bytes);
          total += bytes.length;
          if (r.eof || r.count === 0) break;
        }
        await client.call('guest-file-close', { handle });
        assert.equal(total, FILE_BYTES);
        assert.equal(hash.digest('hex'), createHash('sha256').update(data).digest('hex'));
        peak = Math.max(peak, (agent.rssKiB() ?? 0) / 1024);
      }
    } finally {
      clearInterval(timer);
    }
    t.diagnostic(
      `idle RSS ${idle.toFixed(1)} MiB, peak during 3 x 64 MiB of 4 MiB reads ${peak.toFixed(1)} MiB (+${(peak - idle).toFixed(1)})`,
    );
    assert.ok(
      peak - idle < GROWTH_CEILING_MIB,
      `RSS grew by ${(peak - idle).toFixed(1)} MiB over idle (${idle.toFixed(1)} MiB), more than ${GROWTH_CEILING_MIB} MiB`,
    );
  });
});
