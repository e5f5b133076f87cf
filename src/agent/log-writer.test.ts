import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { BUSY_RETRY_MS, SyncLineWriter, type WriterIo } from './log-writer.js';

const errno = (code: string) => Object.assign(new Error(code), { code });

/** An fd double: each write takes at most `step` bytes, or throws the next queued error first. */
function fakeIo(step: number, errors: string[] = []) {
  const out: Buffer[] = [];
  const sleeps: number[] = [];
  const io: WriterIo = {
    write: (_fd, buf, offset) => {
      const e = errors.shift();
      if (e) throw errno(e);
      const n = Math.min(step, buf.length - offset);
      out.push(buf.subarray(offset, offset + n));
      return n;
    },
    sleep: (ms) => {
      sleeps.push(ms);
    },
  };
  return { io, text: () => Buffer.concat(out).toString('utf8'), sleeps };
}

describe('the log line writer', () => {
  const work = mkdtempSync(path.join(os.tmpdir(), 'guestlink-logw-'));
  after(() => rmSync(work, { recursive: true, force: true }));

  it('continues a partial write until the whole line, multi-byte characters included, is out', () => {
    const f = fakeIo(3);
    const w = new SyncLineWriter(2, f.io);
    w.write('{"msg":"grüße ✓"}\n');
    assert.equal(f.text(), '{"msg":"grüße ✓"}\n');
  });

  it('waits and tries again on EAGAIN and EBUSY instead of losing the line', () => {
    const f = fakeIo(1000, ['EAGAIN', 'EBUSY']);
    const w = new SyncLineWriter(2, f.io);
    w.write('line\n');
    assert.equal(f.text(), 'line\n');
    assert.deepEqual(f.sleeps, [BUSY_RETRY_MS, BUSY_RETRY_MS]);
  });

  it('stops writing, quietly, once the reader is gone (EPIPE)', () => {
    const f = fakeIo(1000, ['EPIPE']);
    const w = new SyncLineWriter(2, f.io);
    w.write('lost\n');
    w.write('after\n');
    assert.equal(f.text(), '');
  });

  it('throws any other write error to the caller', () => {
    const f = fakeIo(1000, ['EIO']);
    const w = new SyncLineWriter(2, f.io);
    assert.throws(() => w.write('x\n'), { code: 'EIO' });
    w.write('next\n');
    assert.equal(f.text(), 'next\n');
  });

  it('opens a log file for appending, making its directory first', () => {
    const file = path.join(work, 'sub', 'dir', 'agent.log');
    SyncLineWriter.open(file).write('one\n');
    SyncLineWriter.open(file).write('two\n');
    assert.equal(readFileSync(file, 'utf8'), 'one\ntwo\n');
    assert.ok(statSync(file).isFile());
  });

  it('throws at once when the file cannot be opened', () => {
    assert.throws(() => SyncLineWriter.open(work), { code: 'EISDIR' });
  });
});
