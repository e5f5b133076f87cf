// The single executable's loader (scripts/sea/loader.cjs) on chunks held in memory: what the executable
// does with its SEA assets, without building one. The executable itself is tested in sea.test.ts.

import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import path from 'node:path';
import { describe, test } from 'node:test';
import type { Script } from 'node:vm';
import { REPO_ROOT } from './build.js';

interface LoaderOptions {
  source(name: string): string;
  cachedData(name: string): Buffer | undefined;
  selfUrl: string;
  onRejected(name: string): void;
}
interface Loader {
  load(name: string): Record<string, unknown>;
  scripts: Map<string, Script>;
}
const { createLoader } = createRequire(import.meta.url)(path.join(REPO_ROOT, 'scripts', 'sea', 'loader.cjs')) as {
  createLoader(o: LoaderOptions): Loader;
};

function loaderOver(chunks: Record<string, string>, extra: Partial<LoaderOptions> = {}) {
  const read: string[] = [];
  const loader = createLoader({
    source: (name) => {
      read.push(name);
      const text = chunks[name];
      if (text === undefined) throw new Error(`no chunk ${name}`);
      return text;
    },
    cachedData: () => undefined,
    selfUrl: 'file:///usr/local/bin/guestlink',
    onRejected: () => {},
    ...extra,
  });
  return { ...loader, read };
}

describe('SEA loader', () => {
  test('resolves chunks relative to the requiring chunk, evaluates each once, and passes built-ins to require', () => {
    const { load, read } = loaderOver({
      'agent.js': `const a = require('./chunks/a.js'); const b = require('./chunks/b.js');
        exports.result = a.value + b.value; exports.sep = require('node:path').sep; exports.self = __guestlinkSelfUrl;`,
      'chunks/a.js': `globalThis.__seaLoaderCount = (globalThis.__seaLoaderCount ?? 0) + 1; exports.value = require('./b.js').value * 10;`,
      'chunks/b.js': 'exports.value = 4;',
      'chunks/unused.js': 'throw new Error("never evaluated");',
    });
    const agent = load('agent.js');
    assert.deepEqual(agent, { result: 44, sep: '/', self: 'file:///usr/local/bin/guestlink' });
    assert.deepEqual(read.sort(), ['agent.js', 'chunks/a.js', 'chunks/b.js']);
    load('chunks/a.js');
    assert.equal((globalThis as { __seaLoaderCount?: number }).__seaLoaderCount, 1);
  });

  test("a cycle sees the other chunk's exports as far as they are made, as CommonJS does", () => {
    const { load } = loaderOver({
      'cli.js': `exports.early = 1; const c = require('./chunks/c.js'); exports.seen = c.seen;`,
      'chunks/c.js': `exports.seen = require('../cli.js').early;`,
    });
    assert.equal(load('cli.js').seen, 1);
  });

  test('a code cache V8 refuses is reported by name and the chunk still runs', () => {
    const rejected: string[] = [];
    const { load } = loaderOver(
      { 'agent.js': 'exports.ok = true;' },
      { cachedData: () => Buffer.from('not a V8 code cache'), onRejected: (name) => rejected.push(name) },
    );
    assert.deepEqual(load('agent.js'), { ok: true });
    assert.deepEqual(rejected, ['agent.js']);
  });

  test('a code cache made from the same chunk after running is accepted', () => {
    const chunks = { 'agent.js': 'exports.twice = (n) => n * 2; exports.four = exports.twice(2);' };
    const first = loaderOver(chunks);
    assert.equal(first.load('agent.js').four, 4);
    const cache = (first.scripts.get('agent.js') as Script).createCachedData();
    const rejected: string[] = [];
    const second = loaderOver(chunks, { cachedData: () => cache, onRejected: (name) => rejected.push(name) });
    assert.equal(second.load('agent.js').four, 4);
    assert.deepEqual(rejected, []);
    assert.equal((second.scripts.get('agent.js') as Script).cachedDataRejected, false);
  });

  test("a chunk's error names the chunk in its stack", () => {
    const { load } = loaderOver({ 'agent.js': 'throw new Error("boom");' });
    assert.throws(
      () => load('agent.js'),
      (err: Error) => /guestlink\/agent\.js:1/.test(err.stack ?? ''),
    );
  });
});
