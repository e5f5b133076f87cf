import assert from 'node:assert/strict';
import { test } from 'node:test';
import { SpareBuffers } from './spare-buffers.js';

test('a buffer given back is handed out again, for the same size or a smaller one', () => {
  const spares = new SpareBuffers(1 << 20, 1024);
  const a = spares.take(4096);
  assert.ok(spares.isOut(a));
  spares.give(a);
  assert.equal(spares.spareBytes, 4096);
  const b = spares.take(2000);
  assert.equal(b.buffer, a.buffer, 'the spare serves a smaller request');
  assert.equal(b.length, 2000);
  assert.equal(spares.spareBytes, 0);
  spares.give(b.subarray(10, 20)); // any view of it gives the whole buffer back
  assert.equal(spares.spareBytes, 4096);
});

test('only buffers it handed out, once each; small requests are plain allocations', () => {
  const spares = new SpareBuffers(1 << 20, 1024);
  spares.give(Buffer.alloc(8192));
  assert.equal(spares.spareBytes, 0, 'a stranger is ignored');
  const a = spares.take(4096);
  spares.give(a);
  spares.give(a);
  assert.equal(spares.spareBytes, 4096, 'a second give of the same buffer is ignored');
  const small = spares.take(100);
  assert.equal(spares.isOut(small), false);
  assert.equal(spares.spareBytes, 4096);
});

test('the cap: small spares make room for a bigger one, and nothing past the cap is kept; trim drops all', () => {
  const spares = new SpareBuffers(10_000, 1024);
  const [a, b] = [spares.take(3000), spares.take(3000)];
  spares.give(a);
  spares.give(b);
  assert.equal(spares.spareBytes, 6000);
  const big = spares.take(8000);
  assert.equal(spares.spareBytes, 6000, 'no spare fits 8000: a new buffer');
  spares.give(big);
  assert.equal(spares.spareBytes, 8000, 'both 3000s dropped for the 8000');
  const huge = spares.take(20_000);
  spares.give(huge);
  assert.equal(spares.spareBytes, 8000, 'over the cap on its own: not kept');
  spares.trim();
  assert.equal(spares.spareBytes, 0);
});
