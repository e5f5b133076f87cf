import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ProgressLine } from './progress.js';

const fake = (isTTY: boolean) => {
  const out: string[] = [];
  return { out, stream: { isTTY, write: (s: string) => out.push(s) } as unknown as NodeJS.WriteStream };
};

test('on a terminal the line is redrawn in place and cleared at the end', () => {
  const f = fake(true);
  const p = new ProgressLine(f.stream, true);
  p.update('1/3');
  p.update('2/3');
  p.done();
  assert.deepEqual(f.out, ['\r\x1b[K/ 1/3', '\r\x1b[K- 2/3', '\r\x1b[K']);
});

test('elsewhere: plain lines, rate-limited unless forced; nothing when disabled', () => {
  const f = fake(false);
  const p = new ProgressLine(f.stream, true, 60_000);
  p.update('a');
  p.update('b');
  p.update('c', true);
  p.done();
  assert.deepEqual(f.out, ['a\n', 'c\n']);
  const q = fake(true);
  new ProgressLine(q.stream, false).update('x');
  assert.deepEqual(q.out, []);
});
