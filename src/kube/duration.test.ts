import assert from 'node:assert/strict';
import { test } from 'node:test';
import { formatDuration, parseDuration } from './duration.js';

test('durations as kubectl --timeout writes them, and bare seconds', () => {
  assert.equal(parseDuration('50s'), 50_000);
  assert.equal(parseDuration('9m30s'), 570_000);
  assert.equal(parseDuration('1h'), 3_600_000);
  assert.equal(parseDuration('1.5s'), 1500);
  assert.equal(parseDuration('250ms'), 250);
  assert.equal(parseDuration('90'), 90_000);
  for (const bad of ['', 's', '5 minutes', '-5s', '5x', '1m 30s', '5sm']) assert.equal(parseDuration(bad), undefined, bad);
});

test('formatDuration reads back as the same duration', () => {
  for (const ms of [0, 999, 1000, 50_000, 90_000, 570_000, 3_600_000, 3_661_000]) {
    const text = formatDuration(ms);
    assert.equal(parseDuration(text), ms, text);
  }
  assert.equal(formatDuration(570_000), '9m30s');
});
