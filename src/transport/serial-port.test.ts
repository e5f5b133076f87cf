// Open, retry and data paths of the serial transport on a FIFO (the VM tests cover the real devices).
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { loadNative } from '../node/linux/native.js';
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
      data: (_c, chunk) => {
        got.push(chunk);
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
    data: (c, chunk) => {
      conns.add(c);
      got.push(chunk);
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

test('with setAsync (the native addon) bytes arrive by SIGIO, not by the safety poll, and close() needs no wake-up byte', {
  skip: native ? false : 'native addon not built',
}, async () => {
  const dir = tmp();
  const calls: number[] = [];
  const setAsync = (fd: number) => {
    calls.push(fd);
    native?.fdSetAsync(fd);
    return true;
  };
  const p = await fifoPort(dir, { setAsync, safetyPollMs: 60_000 });
  try {
    assert.equal(calls.length, 1);
    for (const msg of ['{"execute":"guest-ping"}\n', '{"execute":"guest-info"}\n']) {
      const arrived = p.next();
      const t0 = performance.now();
      fs.writeSync(p.w, msg);
      await arrived;
      assert.ok(performance.now() - t0 < 1000, 'no SIGIO: the bytes waited for the safety poll');
    }
    assert.equal(Buffer.concat(p.got).toString(), '{"execute":"guest-ping"}\n{"execute":"guest-info"}\n');
    assert.equal(p.conns.size, 1);
    // The transport's fd is O_NONBLOCK|O_ASYNC now; nothing of ours is left in the libuv pool.
    const flags = fs.readFileSync(`/proc/self/fdinfo/${calls[0]}`, 'utf8').match(/^flags:\s+(\d+)/m)?.[1];
    assert.ok(flags && (Number.parseInt(flags, 8) & fs.constants.O_NONBLOCK) !== 0);
    await p.t.close();
    assert.throws(() => fs.fstatSync(calls[0] as number), /EBADF/);
  } finally {
    await p.t.close();
    fs.closeSync(p.w);
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('a setAsync that fails leaves the port polling, and bytes still arrive', async () => {
  const dir = tmp();
  const warnings: string[] = [];
  const p = await fifoPort(dir, {
    setAsync: () => {
      throw new Error('EINVAL');
    },
    log: { ...quiet, warn: (_o, msg) => warnings.push(msg) },
  });
  try {
    assert.deepEqual(warnings, ['no SIGIO for the channel; polling instead']);
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

// Only the polling mode here: in SIGIO mode a FIFO is no stand-in. The port opens it O_RDWR, so it is on the
// pipe's writer fasync list too, and Linux's pipe_read() signals that list on every read (EAGAIN included):
// each drain raises the next SIGIO and libuv's signal pipe never empties (seen: 100% CPU, timers starved).
// virtio_console signals only when data arrives or the host comes or goes; test/e2e/virtio-serial.test.ts
// covers SIGIO mode on the real port, with a host that floods without reading.
test('virtio-serial (polling): a paused connection stops reading the port and resumes in order', { timeout: 20_000 }, async () => {
  await floodWhilePaused({});
});
