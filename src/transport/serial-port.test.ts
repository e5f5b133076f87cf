// Open, retry and data paths of the serial transport on a FIFO (the VM tests cover the real devices).
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { SerialPortOpenError, SerialPortTransport } from './serial-port.js';
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
