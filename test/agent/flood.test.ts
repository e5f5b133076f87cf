// A host that writes requests without reading the replies: the agent stops reading that connection while
// a reply waits (src/agent/serve.ts), so its memory stays bounded, and every reply still arrives, in order.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { cpuTicks, makeTempDir, type Peer, startGuestlink } from '../peer/harness.js';
import { pollFor } from '../poll.js';
import { connect } from '../qga-client.js';

describe('flow control', () => {
  let agent: Peer;
  before(async () => {
    agent = await startGuestlink(makeTempDir());
  });
  after(() => agent?.stop());

  it('answers 200,000 pipelined requests from a host that reads only at the end, with bounded memory', async () => {
    const N = 200_000;
    const rssBefore = agent.rssKiB() as number;
    const sock = await connect(agent.socket);
    sock.pause();
    const request = Buffer.from('{"execute":"guest-sync","arguments":{"id":1}}\n'.repeat(1000));
    let written = 0;
    const writeAll = async () => {
      for (let i = 0; i < N / 1000; i++) {
        written += 1000;
        if (!sock.write(request)) await new Promise((r) => sock.once('drain', r));
      }
    };
    const writing = writeAll();
    // Wait until the agent has filled the socket buffers and stopped reading: our writes wait for 'drain'
    // and the agent's CPU time (/proc/PID/stat, 10 ms ticks) stays the same across a 100 ms look.
    let lastTicks = -1;
    const stoppedReading = () => {
      const ticks = cpuTicks(agent.pid);
      const idle = ticks === lastTicks;
      lastTicks = ticks;
      return sock.writableNeedDrain && idle;
    };
    assert.ok(await pollFor(stoppedReading, 60_000, 100), 'the agent stops reading a host that does not read');
    const rssStuck = agent.rssKiB() as number;
    assert.ok(written < N, `the agent stopped taking requests (written ${written} of ${N})`);
    assert.ok(rssStuck - rssBefore < 64 * 1024, `agent RSS grew by ${rssStuck - rssBefore} KiB while the host did not read`);
    let lines = 0;
    let rest = '';
    sock.on('data', (d: Buffer) => {
      const text = rest + d.toString('latin1');
      const parts = text.split('\n');
      rest = parts.pop() as string;
      for (const p of parts) {
        assert.equal(p, '{"return": 1}');
        lines++;
      }
    });
    sock.resume();
    await writing;
    const deadline = Date.now() + 60_000;
    while (lines < N && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    sock.destroy();
    assert.equal(lines, N);
  });
});
