// unix-listen's bounds: hosts at once (one more is told so and disconnected) and replies waiting for hosts
// that do not read them (past the bound, the host whose reply does not fit is disconnected).
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import type { Connection } from './types.js';
import { UnixListenTransport } from './unix-listen.js';

const dir = mkdtempSync(path.join(os.tmpdir(), 'guestlink-unix-listen-'));
after(() => rmSync(dir, { recursive: true, force: true }));

/** A transport that answers "ok\n" to every chunk, and the connections it has. */
async function listen(name: string, opts: ConstructorParameters<typeof UnixListenTransport>[1]) {
  const sock = path.join(dir, `${name}.sock`);
  const t = new UnixListenTransport(sock, opts);
  const conns: Connection[] = [];
  const closed: number[] = [];
  await t.start({
    opened: (c) => conns.push(c),
    data: (c) => void c.write(Buffer.from('ok\n')),
    closed: (c) => closed.push(c.id),
  });
  return { t, sock, conns, closed };
}

function connect(sock: string): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const s = net.createConnection(sock);
    s.once('connect', () => resolve(s));
    s.once('error', reject);
  });
}

/** Everything the socket receives until the agent ends it. */
function untilEnd(s: net.Socket): Promise<string> {
  return new Promise((resolve) => {
    let got = '';
    s.on('data', (d) => {
      got += d.toString('latin1');
    });
    s.once('close', () => resolve(got));
  });
}

function line(s: net.Socket, text: string): Promise<string> {
  return new Promise((resolve) => {
    let got = '';
    const on = (d: Buffer) => {
      got += d.toString('latin1');
      if (got.includes('\n')) {
        s.off('data', on);
        resolve(got);
      }
    };
    s.on('data', on);
    s.write(text);
  });
}

const until = async (cond: () => boolean) => {
  while (!cond()) await new Promise((r) => setImmediate(r));
};

describe('unix-listen bounds', () => {
  it('serves maxConnections hosts; one more gets the refusal and is disconnected; a place that frees up is taken again', async () => {
    const l = await listen('cap', { maxConnections: 3, refusal: Buffer.from('{"error": "busy"}\n') });
    try {
      const served = [await connect(l.sock), await connect(l.sock), await connect(l.sock)];
      await until(() => l.conns.length === 3);
      const extra = await connect(l.sock);
      extra.write('{"execute":"guest-ping"}\n');
      assert.equal(await untilEnd(extra), '{"error": "busy"}\n');
      assert.equal(l.conns.length, 3);
      for (const s of served) assert.equal(await line(s, 'x'), 'ok\n');
      served[0]?.destroy();
      await until(() => l.closed.length === 1);
      const next = await connect(l.sock);
      assert.equal(await line(next, 'x'), 'ok\n');
      for (const s of [...served, next]) s.destroy();
    } finally {
      await l.t.close();
    }
  });

  it('disconnects the host whose reply would take the replies waiting for hosts past maxQueuedBytes', async () => {
    const l = await listen('queue', { maxQueuedBytes: 1 << 20 });
    try {
      const a = await connect(l.sock);
      const b = await connect(l.sock);
      await until(() => l.conns.length === 2);
      const [ca, cb] = l.conns as [Connection, Connection];
      const big = Buffer.alloc(4 << 20, 0x61);
      // Neither host reads. a's reply is the only one waiting: taken, whatever its size.
      const aWaits = ca.write(big);
      assert.ok(aWaits instanceof Promise);
      const bEnd = untilEnd(b);
      b.pause();
      // b's reply does not fit beside it: b is disconnected, its reply dropped.
      assert.equal(cb.write(big), undefined);
      await until(() => l.closed.includes(cb.id));
      b.resume();
      assert.ok((await bEnd).length < big.length);
      // a reads in the end and gets all of its reply.
      let got = 0;
      a.on('data', (d: Buffer) => {
        got += d.length;
      });
      await aWaits;
      await until(() => got === big.length);
      a.destroy();
    } finally {
      await l.t.close();
    }
  });
});
