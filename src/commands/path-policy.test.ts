import assert from 'node:assert/strict';
import { test } from 'node:test';
import { PathAllowList, requestedNames } from './path-policy.js';

/** Canonical forms as the node layer would give them: '/var/run' is a symlink to '/run'; '/missing/' does not exist. */
const CANON: Record<string, string | undefined> = {
  '/data/': '/data',
  '/var/run/x/': '/run/x',
  '/etc/resolv.conf': '/run/resolv/stub.conf',
  '/etc/new.conf': '/etc/new.conf',
  '/missing/': undefined,
  '/': '/',
};
const canonical = async (entry: string) => (entry in CANON ? CANON[entry] : entry.replace(/\/$/, ''));

async function locate(entries: string[], requested: string) {
  const names = requestedNames(requested);
  assert.ok(names, `${requested} was refused`);
  return new PathAllowList(entries).locate(names, canonical);
}

test("requested paths: '' and '.' dropped, relative ones start at '/', '..' refused wherever it is", () => {
  assert.deepEqual(requestedNames('/data//a/./b'), ['data', 'a', 'b']);
  assert.deepEqual(requestedNames('data/a'), ['data', 'a']);
  assert.equal(requestedNames('/data/../etc/shadow'), undefined);
  assert.equal(requestedNames('/data/a/../b'), undefined, 'even a .. that stays inside');
  assert.equal(requestedNames('..'), undefined);
  assert.deepEqual(requestedNames('/data/..x'), ['data', '..x'], 'a name that only starts with .. is a name');
});

test('a directory entry covers what is below it, not itself nor a sibling with the same prefix', async () => {
  assert.deepEqual(await locate(['/data/'], '/data/r/shadow'), { root: '/data', relative: 'r/shadow', depth: 1 });
  assert.equal(await locate(['/data/'], '/data'), undefined);
  assert.equal(await locate(['/data/'], '/data/'), undefined);
  assert.equal(await locate(['/data/'], '/data-sibling/x'), undefined);
  assert.equal(await locate(['/data/'], '/etc/shadow'), undefined);
});

test('entries match as written and in their canonical form; the root opened is always the canonical one', async () => {
  assert.deepEqual(await locate(['/var/run/x/'], '/var/run/x/f'), { root: '/run/x', relative: 'f', depth: 3 });
  assert.deepEqual(await locate(['/var/run/x/'], '/run/x/f'), { root: '/run/x', relative: 'f', depth: 2 });
  // A missing directory entry: matched as written, and the open beneath it will fail with ENOENT.
  assert.deepEqual(await locate(['/missing/'], '/missing/f'), { root: '/missing', relative: 'f', depth: 1 });
});

test('a file entry opens as its canonical parent plus its name, and matches only itself', async () => {
  assert.deepEqual(await locate(['/etc/resolv.conf'], '/etc/resolv.conf'), { root: '/run/resolv', relative: 'stub.conf', depth: 2 });
  assert.deepEqual(await locate(['/etc/new.conf'], '/etc/new.conf'), { root: '/etc', relative: 'new.conf', depth: 2 });
  assert.equal(await locate(['/etc/new.conf'], '/etc/new.conf/x'), undefined);
  assert.equal(await locate(['/etc/new.conf'], '/etc'), undefined);
});

test('the deepest entry wins; "/" covers everything; relative entries are ignored', async () => {
  assert.deepEqual(await locate(['/', '/data/', '/data/r/'], '/data/r/s'), { root: '/data/r', relative: 's', depth: 2 });
  assert.deepEqual(await locate(['/'], '/etc/hosts'), { root: '/', relative: 'etc/hosts', depth: 0 });
  assert.equal(await locate(['data/'], '/data/x'), undefined);
  assert.equal(new PathAllowList([]).empty, true);
});
