// Open, retry and data paths of the serial transport on a FIFO (the VM tests cover the real devices).
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { loadNative, nativeReadiness } from '../native/addon.js';
import type { FdReadiness } from './port-base.js';
import { PAUSED_READ_LIMIT, SerialPortOpenError, type SerialPortOptions, SerialPortTransport } from './serial-port.js';
import type { Connection } from './types.js';

const tmp = () => fs.mkdtempSync(path.join(os.tmpdir(), 'gl-serial-'));

test('a missing device without retry fails like qemu-ga, with a hint', async () => {
  const dir = tmp();
  try {
    const t = new SerialPortTransport(path.join(dir, 'nope'), { kind: 'virtio-serial', retry: false });
    await assert.rejects(
      t.start({ data() {}, closed() {} }),
      (err: unknown) => err instanceof SerialPortOpenError && /^error opening channel '.*nope': ENOENT.*-r waits for it/.test(err.message),
    );
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('with retry the device is opened once it appears, and bytes reach the handlers', async () => {
  const dir = tmp();
  const dev = path.join(dir, 'port');
  const t = new SerialPortTransport(dev, {
    kind: 'virtio-serial',
    retry: true,
    retryIntervalMs: 50,
    log: { warn() {}, info() {}, debug() {} },
  });
  const got: Buffer[] = [];
  let opened: Connection | undefined;
  let wake: () => void = () => {};
  const arrived = new Promise<void>((r) => {
    wake = r;
  });
  try {
    await t.start({
      opened: (c) => {
        opened = c;
      },
      data: (_c, chunk, length = chunk.length) => {
        got.push(Buffer.from(chunk.subarray(0, length)));
        wake();
      },
      closed() {},
    });
    execFileSync('mkfifo', [dev]);
    const w = fs.openSync(dev, fs.constants.O_RDWR);
    fs.writeSync(w, '{"execute":"guest-ping"}\n');
    await arrived;
    assert.equal(Buffer.concat(got).toString(), '{"execute":"guest-ping"}\n');
    assert.ok(opened);
    await t.close();
    // The transport's read is still blocked on the FIFO: one more byte releases the pool thread.
    fs.writeSync(w, '\n');
    fs.closeSync(w);
  } finally {
    await t.close();
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

const quiet = { warn() {}, info() {}, debug() {} };

/** An anonymous pipe's two fds (Node has no pipe(2): a FIFO opened twice). */
function pipeFds(): [number, number] {
  const dir = tmp();
  const f = path.join(dir, 'p');
  execFileSync('mkfifo', [f]);
  const r = fs.openSync(f, fs.constants.O_RDWR);
  const w = fs.openSync(f, fs.constants.O_WRONLY);
  fs.rmSync(dir, { recursive: true, force: true });
  return [r, w];
}

async function until(cond: () => boolean, ms = 2000): Promise<void> {
  const end = performance.now() + ms;
  while (!cond()) {
    if (performance.now() > end) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 5));
  }
}
const native = loadNative();

/** Starts a virtio-serial transport on a FIFO the test also holds open; resolves each time bytes arrive. */
async function fifoPort(dir: string, opts: Partial<SerialPortOptions>) {
  const dev = path.join(dir, 'port');
  execFileSync('mkfifo', [dev]);
  const t = new SerialPortTransport(dev, { kind: 'virtio-serial', retry: false, log: quiet, ...opts });
  const got: Buffer[] = [];
  let wake: () => void = () => {};
  const conns = new Set<Connection>();
  await t.start({
    data: (c, chunk, length = chunk.length) => {
      conns.add(c);
      got.push(Buffer.from(chunk.subarray(0, length)));
      wake();
    },
    closed() {},
  });
  const w = fs.openSync(dev, fs.constants.O_RDWR);
  const next = () =>
    new Promise<void>((r) => {
      wake = r;
    });
  return { t, w, got, conns, next };
}

const readiness = nativeReadiness(native);

/** The addon's readiness, noting each fd it is asked to watch and counting the events it delivers. */
function recordingReadiness(watched: number[], events = { count: 0 }): FdReadiness {
  const rd = readiness as NonNullable<typeof readiness>;
  return {
    ...rd,
    watch: (fd, onReady) => {
      watched.push(fd);
      return rd.watch(fd, () => {
        events.count++;
        onReady();
      });
    },
  };
}

test('with the readiness watch (the native addon) bytes arrive by an event, not by the safety poll, and close() needs no wake-up byte', {
  skip: readiness ? false : 'native addon not built',
  // Fails instead of hanging when no event comes (the safety poll would take an hour).
  timeout: 60_000,
}, async () => {
  const dir = tmp();
  const watched: number[] = [];
  const events = { count: 0 };
  // The safety poll is an hour away: bytes that arrive at all within the test were read after an event.
  const p = await fifoPort(dir, {
    readiness: recordingReadiness(watched, events),
    safetyPollMs: 3_600_000,
  });
  try {
    assert.equal(watched.length, 1);
    for (const msg of ['{"execute":"guest-ping"}\n', '{"execute":"guest-info"}\n']) {
      const arrived = p.next();
      const before = events.count;
      fs.writeSync(p.w, msg);
      await arrived;
      assert.ok(events.count > before, 'the bytes were read after a readiness event');
    }
    assert.equal(Buffer.concat(p.got).toString(), '{"execute":"guest-ping"}\n{"execute":"guest-info"}\n');
    assert.equal(p.conns.size, 1);
    // The transport's fd is O_NONBLOCK now, not O_ASYNC (no signals); nothing of ours is in the libuv pool.
    const flags = fs.readFileSync(`/proc/self/fdinfo/${watched[0]}`, 'utf8').match(/^flags:\s+(\d+)/m)?.[1];
    assert.ok(flags);
    assert.notEqual(Number.parseInt(flags, 8) & fs.constants.O_NONBLOCK, 0);
    assert.equal(Number.parseInt(flags, 8) & 0o20000, 0, 'O_ASYNC is not set');
    await p.t.close();
    assert.throws(() => fs.fstatSync(watched[0] as number), /EBADF/);
  } finally {
    await p.t.close();
    fs.closeSync(p.w);
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('a readiness watch that fails leaves the port polling (blocking), and bytes still arrive', {
  skip: readiness ? false : 'native addon not built',
}, async () => {
  const dir = tmp();
  const warnings: string[] = [];
  const rd = readiness as NonNullable<typeof readiness>;
  const p = await fifoPort(dir, {
    readiness: {
      ...rd,
      watch: () => {
        throw new Error('EINVAL');
      },
    },
    log: { ...quiet, warn: (_o, msg) => warnings.push(msg) },
  });
  try {
    assert.deepEqual(warnings, ['no readiness watch for the channel; polling instead']);
    const arrived = p.next();
    fs.writeSync(p.w, '{"execute":"guest-ping"}\n');
    await arrived;
    assert.equal(Buffer.concat(p.got).toString(), '{"execute":"guest-ping"}\n');
    await p.t.close();
    fs.writeSync(p.w, '\n'); // releases the pooled read
  } finally {
    await p.t.close();
    fs.closeSync(p.w);
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('the addon watch: an fd already readable is announced once per edge, a bad fd throws and changes nothing', {
  skip: readiness ? false : 'native addon not built',
}, async () => {
  const rd = readiness as NonNullable<typeof readiness>;
  const [r, w] = pipeFds();
  let calls = 0;
  fs.writeSync(w, 'x');
  const token = rd.watch(r, () => {
    calls++;
  });
  try {
    await until(() => calls === 1);
    // Not read: edge-triggered, so no further call until the next write.
    await new Promise((res) => setTimeout(res, 100));
    assert.equal(calls, 1);
    fs.writeSync(w, 'y');
    await until(() => calls === 2);
    const buf = Buffer.alloc(16);
    assert.equal(rd.read(r, buf), 2);
    assert.equal(buf.subarray(0, 2).toString(), 'xy');
    assert.equal(rd.read(r, buf), -os.constants.errno.EAGAIN, 'non-blocking, and EAGAIN is a number, not a throw');
    assert.equal(rd.write(w, Buffer.from('abc'), 1, 2), 2);
    assert.throws(() => rd.write(w, Buffer.from('abc'), 2, 2), /outside the buffer/);
  } finally {
    rd.unwatch(token);
    rd.unwatch(token); // a second call does nothing
    fs.closeSync(r);
    fs.closeSync(w);
  }
  assert.throws(() => rd.watch(1 << 20, () => {}), { code: 'EBADF' });
});

test('hangUp() leaves the port (the conversation ends, the fd is closed) and reopens it: later bytes arrive on a new conversation', {
  skip: readiness ? false : 'native addon not built',
}, async () => {
  const dir = tmp();
  const dev = path.join(dir, 'port');
  execFileSync('mkfifo', [dev]);
  const watched: number[] = [];
  const t = new SerialPortTransport(dev, {
    kind: 'virtio-serial',
    retry: false,
    retryIntervalMs: 50,
    log: quiet,
    readiness: recordingReadiness(watched),
  });
  const got: [number, string][] = [];
  const closed: number[] = [];
  await t.start({
    data: (c, chunk, length = chunk.length) => got.push([c.id, chunk.toString('utf8', 0, length)]),
    closed: (c) => closed.push(c.id),
  });
  const w = fs.openSync(dev, fs.constants.O_RDWR);
  try {
    fs.writeSync(w, 'one\n');
    await until(() => got.length === 1);
    const first = (got[0] as [number, string])[0];
    t.hangUp();
    assert.deepEqual(closed, [first], 'the conversation ended at once');
    // close(2) runs on the thread pool: wait for it, then the fd no longer names the port (it may be reused).
    const fd = watched[0] as number;
    const onPort = () => {
      try {
        return fs.realpathSync(`/proc/self/fd/${fd}`) === fs.realpathSync(dev) && watched.length === 1;
      } catch {
        return false;
      }
    };
    await until(() => !onPort(), 3000);
    await until(() => watched.length === 2, 3000);
    fs.writeSync(w, 'two\n');
    await until(() => got.length === 2);
    assert.equal((got[1] as [number, string])[1], 'two\n');
    assert.notEqual((got[1] as [number, string])[0], first, 'a new conversation');
  } finally {
    await t.close();
    fs.closeSync(w);
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('isa-serial refuses a device that is not a tty', async () => {
  const dir = tmp();
  const file = path.join(dir, 'plain');
  fs.writeFileSync(file, '');
  try {
    const t = new SerialPortTransport(file, { kind: 'isa-serial', retry: false });
    await assert.rejects(t.start({ data() {}, closed() {} }), /is not a tty/);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

// Flow control. The FIFO stands in for the port: with the writer end non-blocking, how much the "host" can
// write shows whether the transport still reads (a FIFO holds 64 KiB; a paused port reads ahead at most
// PAUSED_READ_LIMIT plus one read of 64 KiB), and every byte must still arrive, in order, after resume().
async function floodWhilePaused(opts: Partial<SerialPortOptions>) {
  const dir = tmp();
  const p = await fifoPort(dir, opts);
  const hostFd = fs.openSync(path.join(dir, 'port'), fs.constants.O_RDWR | fs.constants.O_NONBLOCK);
  try {
    const first = p.next();
    fs.writeSync(hostFd, 'first\n');
    await first;
    const conn = [...p.conns][0] as Connection;
    assert.ok(conn.pause && conn.resume, 'a serial connection can be paused');
    conn.pause();
    const delivered = Buffer.concat(p.got).length;
    // The host keeps writing for a while: numbered lines, so order and completeness can be checked.
    let sent = 'first\n';
    let line = 0;
    const until = performance.now() + 400;
    while (performance.now() < until) {
      const text = `${String(line).padStart(8, '0')}\n`.repeat(64);
      let n: number;
      try {
        n = fs.writeSync(hostFd, text);
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'EAGAIN') throw err;
        await new Promise((r) => setTimeout(r, 20));
        continue;
      }
      sent += text.slice(0, n);
      line++;
      if (n < text.length) await new Promise((r) => setTimeout(r, 20));
    }
    assert.equal(Buffer.concat(p.got).length, delivered, 'nothing is delivered while paused');
    const taken = Buffer.byteLength(sent) - delivered;
    const bound = 64 * 1024 + PAUSED_READ_LIMIT + 64 * 1024 + 1024;
    assert.ok(taken <= bound, `the port kept reading while paused: the host wrote ${taken} bytes (bound ${bound})`);
    conn.resume();
    const deadline = performance.now() + 5000;
    while (Buffer.concat(p.got).length < Buffer.byteLength(sent) && performance.now() < deadline)
      await new Promise((r) => setTimeout(r, 10));
    assert.equal(Buffer.concat(p.got).toString(), sent, 'after resume every byte arrives, in order');
    assert.equal(p.conns.size, 1, 'still the same conversation');
  } finally {
    await p.t.close();
    // Polling mode: releases the pooled read (a full FIFO needs no byte: the read returns anyway).
    try {
      fs.writeSync(hostFd, '\n');
    } catch {}
    fs.closeSync(hostFd);
    fs.closeSync(p.w);
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

// Both modes. In watch mode the FIFO, opened O_RDWR, also wakes the port's epoll entry when a read frees
// space (the pipe's writer wait queue): the watch asks for EPOLLIN only, so those wake-ups reach no callback.
// test/e2e/virtio-serial.test.ts covers the real port, with a host that floods without reading.
test('virtio-serial (polling): a paused connection stops reading the port and resumes in order', { timeout: 20_000 }, async () => {
  await floodWhilePaused({});
});

test('virtio-serial (watch): a paused connection stops reading the port and resumes in order', {
  timeout: 20_000,
  skip: readiness ? false : 'native addon not built',
}, async () => {
  await floodWhilePaused({ readiness });
});
