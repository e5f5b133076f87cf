import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, test } from 'node:test';
import { PathAllowList, resolveForOpen } from './path-policy.js';

const dir = mkdtempSync(path.join(os.tmpdir(), 'guestlink-policy-'));
after(() => rmSync(dir, { recursive: true, force: true }));
const allowed = path.join(dir, 'allowed');
const outside = path.join(dir, 'outside');
mkdirSync(allowed);
mkdirSync(outside);
writeFileSync(path.join(allowed, 'f'), 'x');
writeFileSync(path.join(outside, 'secret'), 's');
symlinkSync(path.join(outside, 'secret'), path.join(allowed, 'link-to-secret'));
symlinkSync(outside, path.join(allowed, 'link-dir'));
symlinkSync(path.join(outside, 'new-file'), path.join(allowed, 'dangling'));
const list = new PathAllowList([`${allowed}/`]);

async function allowedPath(p: string): Promise<boolean> {
  return list.allows((await resolveForOpen(p)).real);
}

test('files below an allowed directory are allowed, existing or to be created', async () => {
  assert.equal(await allowedPath(path.join(allowed, 'f')), true);
  const r = await resolveForOpen(path.join(allowed, 'new'));
  assert.equal(r.exists, false);
  assert.equal(await list.allows(r.real), true);
});

test('the directory entry itself and siblings with the same prefix are not allowed', async () => {
  assert.equal(await allowedPath(allowed), false);
  mkdirSync(`${allowed}-sibling`, { recursive: true });
  assert.equal(await allowedPath(`${allowed}-sibling/x`), false);
});

test('symlinks cannot escape: file link, directory link, dangling link to a new file', async () => {
  assert.equal(await allowedPath(path.join(allowed, 'link-to-secret')), false);
  assert.equal(await allowedPath(path.join(allowed, 'link-dir', 'secret')), false);
  assert.equal(await allowedPath(path.join(allowed, 'link-dir', 'new')), false);
  // A dangling link inside the list: never followed; the open is refused as the kernel would (O_NOFOLLOW).
  const dangling = await resolveForOpen(path.join(allowed, 'dangling'));
  assert.equal(dangling.error?.code, 'ELOOP');
});

test('".." cannot escape, also through a symlinked directory', async () => {
  assert.equal(await allowedPath(`${allowed}/../outside/secret`), false);
  assert.equal(await allowedPath(`${allowed}/../outside/new`), false);
  // link-dir/.. is the kernel's parent of outside/, i.e. dir: not below allowed/.
  assert.equal(await allowedPath(`${allowed}/link-dir/../allowed-not-there`), false);
  // A missing sub/ makes the kernel fail: no lexical shortcut to allowed/f, the open reports ENOENT.
  assert.equal((await resolveForOpen(`${allowed}/sub/../f`)).error?.code, 'ENOENT');
});

test('exact file entries and entries through symlinks match the canonical path', async () => {
  const exact = new PathAllowList([path.join(allowed, 'f')]);
  assert.equal(await exact.allows((await resolveForOpen(path.join(allowed, 'f'))).real), true);
  assert.equal(await exact.allows((await resolveForOpen(path.join(allowed, 'link-to-secret'))).real), false);
  symlinkSync(allowed, path.join(dir, 'alias'));
  const viaAlias = new PathAllowList([`${path.join(dir, 'alias')}/`]);
  assert.equal(await viaAlias.allows((await resolveForOpen(path.join(allowed, 'f'))).real), true);
});

test('a missing parent is reported as the error opening would give', async () => {
  const r = await resolveForOpen(path.join(allowed, 'nope', 'x'));
  assert.equal(r.error?.code, 'ENOENT');
  assert.equal(await new PathAllowList([]).allows(r.real), false);
});
