// scripts/sea-node-latest.mjs: which registry version is the newest of the pinned Node's line. The registry
// itself is not asked here (a Node release must not turn CI red); these are its answers' shapes.

import assert from 'node:assert/strict';
import path from 'node:path';
import { test } from 'node:test';
import { pathToFileURL } from 'node:url';
import { REPO_ROOT } from './build.js';

const { newestOfLine, parseVersion } = (await import(pathToFileURL(path.join(REPO_ROOT, 'scripts', 'sea-node-latest.mjs')).href)) as {
  newestOfLine(versions: string[], pinned: string): string | undefined;
  parseVersion(v: string): [number, number, number] | undefined;
};

test('the newest release of the pinned major, compared as numbers, not as strings', () => {
  const versions = ['24.9.0', '24.21.0', '24.22.1', '24.22.3', '24.22.10', '26.12.1', '25.0.0', '23.11.1'];
  assert.equal(newestOfLine(versions, '24.21.0'), '24.22.10');
  assert.equal(newestOfLine(versions, '26.1.0'), '26.12.1');
});

test('pre-releases and anything not x.y.z are never proposed', () => {
  assert.equal(newestOfLine(['24.21.0', '24.23.0-rc.1', '24.x', ' 24.30.0', '24.22.0\n'], '24.21.0'), '24.21.0');
  assert.equal(parseVersion('24.22.3-nightly'), undefined);
  assert.deepEqual(parseVersion('24.22.3'), [24, 22, 3]);
});

test('a line the registry does not have gives no answer (the script then says the pin is the newest it knows)', () => {
  assert.equal(newestOfLine(['26.12.1', '22.23.4'], '24.22.3'), undefined);
  assert.equal(newestOfLine([], '24.22.3'), undefined);
});
