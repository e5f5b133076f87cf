// The unix connector's QGA client against a scripted peer and real agents: a reply that arrives
// after its request timed out is not taken for the next request's reply (resync, as libvirt does);
// a dropped connection is reopened with a fresh sync; stale bytes before the sync are skipped.
import assert from 'node:assert/strict';
import net from 'node:net';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { UnixConnection } from '../../src/host/connectors/unix.js';
import { QgaTimeoutError } from '../../src/host/errors.js';
import { makeTempDir, type Peer, startGuestlink } from '../peer/harness.js';

/** A peer that answers in order, as agents do, taking `lateMs` for guest-get-time. */
function slowPeer(socket: string, lateMs: number): Promise<net.Server> {
  const server = net.createServer((c) => {
    let buf = '';
    let queue = Promise.resolve();
    const reply = (bytes: Buffer | string, delay = 0) => {
      queue = queue.then(() => new Promise((r) => setTimeout(r, delay))).then(() => void c.write(bytes));
    };
    c.on('data', (d) => {
      buf += d.toString('latin1').replace(/\xff/g, '');
      // Requests carry no braces inside strings: a brace count finds where each one ends.
      for (;;) {
        let depth = 0;
        let end = -1;
        for (let k = 0; k < buf.length && end < 0; k++) {
          if (buf[k] === '{') depth++;
          else if (buf[k] === '}' && --depth === 0) end = k;
        }
        if (end < 0) break;
        const req = JSON.parse(buf.slice(0, end + 1));
        buf = buf.slice(end + 1);
        if (req.execute === 'guest-sync-delimited')
          reply(Buffer.concat([Buffer.from([0xff]), Buffer.from(`{"return": ${req.arguments.id}}\n`)]));
        else if (req.execute === 'guest-get-time') reply('{"return": 111}\n', lateMs);
        else reply('{"return": {}}\n');
      }
    });
  });
  return new Promise((resolve) => server.listen(socket, () => resolve(server)));
}

describe('unix connector', () => {
  let agent: Peer;
  before(async () => {
    agent = await startGuestlink(makeTempDir());
  });
  after(() => agent?.stop());

  test('a late reply after a timeout is dropped by the resync before the next request', async () => {
    const sock = path.join(makeTempDir(), 'slow.sock');
    const server = await slowPeer(sock, 300);
    const conn = new UnixConnection(`unix:${sock}`, sock);
    try {
      assert.equal(JSON.stringify(await conn.call('guest-ping', undefined, { timeoutMs: 1000 })), '{}');
      await assert.rejects(conn.call('guest-get-time', undefined, { timeoutMs: 100 }), QgaTimeoutError);
      // Sent while the late {"return": 111} is still owed: without a resync it would be taken for this reply.
      assert.equal(JSON.stringify(await conn.call('guest-ping', undefined, { timeoutMs: 1000 })), '{}');
    } finally {
      conn.close();
      server.close();
    }
  });

  test('a connection the agent dropped is reopened with a fresh sync', async () => {
    const conn = new UnixConnection(`unix:${agent.socket}`, agent.socket);
    try {
      assert.equal(JSON.stringify(await conn.call('guest-ping')), '{}');
      // The socket goes away under the connection (as when QEMU or the agent restarts).
      const client = (conn as unknown as { conn: { client: { close(): void; closed: boolean } } }).conn.client;
      client.close();
      // Once the client has seen its socket close, the next call must open a new one.
      while (!client.closed) await new Promise((r) => setTimeout(r, 5));
      assert.equal(JSON.stringify(await conn.call('guest-ping')), '{}');
    } finally {
      conn.close();
    }
  });
});
