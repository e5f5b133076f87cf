// unix-listen's bounds: hosts at once (one more is told so and disconnected) and replies waiting for hosts
// that do not read them (past the bound, the host whose reply does not fit is disconnected), with node:net's
// server and with the native addon's listening socket (one read buffer for all hosts); then what only the
// native listener has: its socket file's mode, accept floods, running out of fds, the shared read buffer.
import assert from 'node:assert/strict';
import { closeSync, lstatSync, mkdtempSync, readdirSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { nativeUnixSocket } from '../native/addon.js';
import type { Connection } from './types.js';
import { ACCEPT_RETRY_MS, type UnixSocketNative } from './unix-accept.js';
import { UnixListenTransport } from './unix-listen.js';

const native = nativeUnixSocket();
const noAddon = native ? false : 'native addon not built';

const dir = mkdtempSync(path.join(os.tmpdir(), 'guestlink-unix-listen-'));
after(() => rmSync(dir, { recursive: true, force: true }));

/** A transport that answers "ok\n" to every chunk, and the connections it has. */
async function listen(name: string, opts: ConstructorParameters<typeof UnixListenTransport>[1]) {
  const sock = path.join(dir, `${name}.sock`);
  const t = new UnixListenTransport(sock, opts);
  const conns: Connection[] = [];
  const closed: number[] = [];
  /** What each conversation received, copied (the chunk may be the shared read buffer). */
  const received = new Map<number, Buffer[]>();
  await t.start({
    opened: (c) => conns.push(c),
    data: (c, chunk, length = chunk.length) => {
      const got = received.get(c.id) ?? [];
      got.push(Buffer.from(chunk.subarray(0, length)));
      received.set(c.id, got);
      void c.write(Buffer.from('ok\n'));
    },
    closed: (c) => closed.push(c.id),
  });
  return { t, sock, conns, closed, received };
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

/** Waits until cond holds; fails after 10 s (a leak or a lost host must not hang the suite). */
const until = async (cond: () => boolean) => {
  const deadline = performance.now() + 10_000;
  while (!cond()) {
    if (performance.now() > deadline) throw new Error(`still not so after 10 s: ${cond}`);
    await new Promise((r) => setTimeout(r, 1));
  }
};

for (const [variant, tag, withNative] of [
  ['node:net server', 'net', undefined],
  ['native listener', 'native', native],
] as const) {
  describe(`unix-listen bounds (${variant})`, { skip: tag === 'native' ? noAddon : false }, () => {
    it('serves maxConnections hosts; one more gets the refusal and is disconnected; a place that frees up is taken again', async () => {
      const l = await listen(`cap-${tag}`, { native: withNative, maxConnections: 3, refusal: Buffer.from('{"error": "busy"}\n') });
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

    it('does not count a host that has left against the cap, but counts one that half-closed and is still owed a reply', async () => {
      const l = await listen(`left-${tag}`, { native: withNative, maxConnections: 1, refusal: Buffer.from('busy\n') });
      try {
        // A host asks, is answered and leaves; the next connects at once (before the agent's side is closed).
        for (let i = 0; i < 20; i++) {
          const s = await connect(l.sock);
          assert.equal(await line(s, 'x'), 'ok\n', `host ${i} was refused`);
          s.destroy();
        }
        // A host that half-closes while a reply waits for it (it does not read) keeps its place.
        const a = await connect(l.sock);
        await until(() => l.conns.length === 21);
        a.pause();
        const owed = (l.conns[20] as Connection).write(Buffer.alloc(4 << 20, 0x61));
        assert.ok(owed instanceof Promise);
        a.end();
        await new Promise((r) => setTimeout(r, 50));
        const b = await connect(l.sock);
        const bounded = new Promise<string>((r) => setTimeout(() => r('(no refusal and no end within 5 s)'), 5000).unref());
        assert.equal(await Promise.race([untilEnd(b), bounded]), 'busy\n');
        b.destroy();
        a.destroy();
        await until(() => l.closed.length === 21);
      } finally {
        await l.t.close();
      }
    });

    it('disconnects the host whose reply would take the replies waiting for hosts past maxQueuedBytes', async () => {
      const l = await listen(`queue-${tag}`, { native: withNative, maxQueuedBytes: 1 << 20 });
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
}

/** The fds this process has open (to see that nothing leaks). */
const openFds = () => readdirSync('/proc/self/fd').length;

describe('unix-listen with the native listener', { skip: noAddon }, () => {
  const n = native as UnixSocketNative;

  it('creates its socket file 0600 even under umask 0, and refuses to take over a path that is not a socket', async () => {
    const old = process.umask(0);
    try {
      const l = await listen('mode', { native: n });
      // The mode is the socket's own from bind() on (fchmod before bind), not only after the chmod.
      assert.equal(statSync(l.sock).mode & 0o777, 0o600);
      await l.t.close();
      const fd = n.listen(path.join(dir, 'raw.sock'), 0o600, 4);
      try {
        assert.equal(statSync(path.join(dir, 'raw.sock')).mode & 0o777, 0o600);
      } finally {
        closeSync(fd);
      }
    } finally {
      process.umask(old);
    }
    // A file or a symlink planted at the path is neither removed nor followed.
    const planted = path.join(dir, 'planted.sock');
    writeFileSync(planted, 'data');
    await assert.rejects(listen('planted', { native: n }), {
      code: 'EADDRINUSE',
      message: `bind EADDRINUSE: Address already in use ${planted}`,
    });
    assert.ok(lstatSync(planted).isFile());
    const target = path.join(dir, 'target');
    const link = path.join(dir, 'link.sock');
    symlinkSync(target, link);
    await assert.rejects(new UnixListenTransport(link, { native: n }).start({ data() {}, closed() {} }), { code: 'EADDRINUSE' });
    assert.ok(lstatSync(link).isSymbolicLink());
    assert.throws(() => lstatSync(target), { code: 'ENOENT' });
    assert.throws(() => n.listen(path.join(dir, 'x'.repeat(120)), 0o600, 4), { code: 'ENAMETOOLONG' });
    // A NUL inside the path is refused, not cut there (which would bind the shorter name).
    assert.throws(() => n.listen(path.join(dir, 'short\0.sock'), 0o600, 4), { code: 'EINVAL' });
    assert.throws(() => lstatSync(path.join(dir, 'short')), { code: 'ENOENT' });
    assert.throws(() => n.listen('', 0o600, 4), { code: 'ENOENT' });
    // Nobody waiting: -EAGAIN, not a throw and not a block.
    const quietFd = n.listen(path.join(dir, 'quiet.sock'), 0o600, 4);
    try {
      assert.equal(n.accept(quietFd), -os.constants.errno.EAGAIN);
    } finally {
      closeSync(quietFd);
    }
  });

  it("keeps each host's bytes apart although all are read into one buffer", async () => {
    const l = await listen('apart', { native: n });
    try {
      const hosts = await Promise.all([0, 1, 2].map(() => connect(l.sock)));
      await until(() => l.conns.length === 3);
      // Each host sends 1 MiB of its own byte, in pieces, all at the same time.
      const sent = hosts.map((_, i) => Buffer.alloc(1 << 20, 0x41 + i));
      hosts.forEach((h, i) => {
        h.on('data', () => {});
        const b = sent[i] as Buffer;
        for (let off = 0; off < b.length; off += 10_000) h.write(b.subarray(off, off + 10_000));
      });
      const total = (id: number) => (l.received.get(id) ?? []).reduce((a, b) => a + b.length, 0);
      await until(() => l.conns.every((c) => total(c.id) === 1 << 20));
      for (const [i, c] of l.conns.entries()) {
        const got = Buffer.concat(l.received.get(c.id) ?? []);
        // Hosts connect in order, and are accepted in order.
        assert.ok(got.equals(sent[i] as Buffer), `host ${i} got other bytes`);
      }
      for (const h of hosts) h.destroy();
    } finally {
      await l.t.close();
    }
  });

  it("holds a paused conversation's bytes in the kernel until it is resumed", async () => {
    const l = await listen('pause', { native: n });
    try {
      const h = await connect(l.sock);
      await until(() => l.conns.length === 1);
      const c = l.conns[0] as Connection;
      c.pause?.();
      h.write('held');
      await new Promise((r) => setTimeout(r, 50));
      assert.equal(l.received.get(c.id), undefined);
      c.resume?.();
      await until(() => l.received.get(c.id) !== undefined);
      assert.equal(Buffer.concat(l.received.get(c.id) ?? []).toString(), 'held');
      h.destroy();
    } finally {
      await l.t.close();
    }
  });

  it('survives a flood of connections over the cap: every extra host is refused and closed, no fd is left behind', async () => {
    const before = openFds();
    const l = await listen('flood', { native: n, maxConnections: 2, refusal: Buffer.from('busy\n') });
    try {
      const kept = [await connect(l.sock), await connect(l.sock)];
      await until(() => l.conns.length === 2);
      const flood = await Promise.all(Array.from({ length: 300 }, () => connect(l.sock)));
      const ends = await Promise.all(flood.map((s) => untilEnd(s)));
      assert.ok(ends.every((e) => e === 'busy\n'));
      for (const s of kept) assert.equal(await line(s, 'x'), 'ok\n');
      for (const s of kept) s.destroy();
      await until(() => l.closed.length === 2);
    } finally {
      await l.t.close();
    }
    // Our 300 client sockets and the agent's 300 are all closed, the listening socket too.
    await until(() => openFds() <= before);
  });

  it('accepts a host it could not accept at first (out of fds) once it can', async () => {
    let failures = 1;
    const emfile: UnixSocketNative = {
      ...n,
      accept: (fd) => (failures-- > 0 ? -os.constants.errno.EMFILE : n.accept(fd)),
    };
    const warnings: string[] = [];
    const l = await listen('emfile', { native: emfile, log: { warn: (_o, m) => warnings.push(m), info() {}, debug() {} } });
    try {
      const t0 = performance.now();
      const h = await connect(l.sock);
      assert.equal(await line(h, 'x'), 'ok\n');
      assert.ok(performance.now() - t0 >= ACCEPT_RETRY_MS - 5, 'accepted only on the retry');
      assert.deepEqual(warnings, ['cannot accept a host yet']);
      h.destroy();
    } finally {
      await l.t.close();
    }
  });
});
