// The opener, by each of its three ways: openat2 (the addon on Linux >= 5.6), the openat walk (the addon
// where openat2 is missing: simulated with the test-only `walk` option) and the verified open (no addon).
// Each must give the same answers: the file beneath the root, or ELOOP/EMLINK/ENOENT/EINVAL.
import assert from 'node:assert/strict';
import { linkSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, describe, test } from 'node:test';
import { loadNative } from '../../native/addon.js';
import type { FileAccess, FileOpenMode } from '../interfaces.js';
import { createFileAccess } from './file-access.js';

const native = loadNative();
// Under CI the addon must be there; elsewhere its two ways are skipped with the reason.
const noAddon = native?.openBeneath ? false : process.env.CI ? false : 'the native addon is not built (npm run build:native)';

const work = mkdtempSync(path.join(os.tmpdir(), 'guestlink-opener-'));
after(() => rmSync(work, { recursive: true, force: true }));

const R: FileOpenMode = { readable: true, writable: false, create: false, truncate: false, append: false };
const W: FileOpenMode = { readable: false, writable: true, create: true, truncate: true, append: false };
const A: FileOpenMode = { readable: false, writable: true, create: true, truncate: false, append: true };
const NO_LINKS = { allowHardLinks: false };

const WAYS: [string, () => FileAccess, string | false][] = [
  ['openat2', () => createFileAccess({ native }), noAddon || (native?.openat2Supported?.() ? false : 'this kernel has no openat2')],
  ['openat-walk', () => createFileAccess({ native, walk: true }), noAddon],
  ['verify-after-open', () => createFileAccess({ native: undefined }), false],
];

let n = 0;
function tree() {
  const dir = path.join(work, `t${++n}`);
  const root = path.join(dir, 'root');
  const out = path.join(dir, 'out');
  mkdirSync(path.join(root, 'd'), { recursive: true });
  mkdirSync(out);
  writeFileSync(path.join(root, 'd', 'f'), 'inside');
  writeFileSync(path.join(out, 'secret'), 'outside', { mode: 0o600 });
  symlinkSync(out, path.join(root, 'dirlink'));
  symlinkSync(path.join(out, 'secret'), path.join(root, 'filelink'));
  symlinkSync(path.join(out, 'new'), path.join(root, 'dangling'));
  linkSync(path.join(out, 'secret'), path.join(root, 'hard'));
  return { root, out };
}

for (const [name, make, skip] of WAYS) {
  describe(`opening beneath a root: ${name}`, { skip }, () => {
    test('reports its way', () => {
      assert.equal(make().method, name);
    });

    test('opens a file beneath the root and reads it; the path is root + relative', async () => {
      const { root } = tree();
      const f = await make().openBeneath(root, 'd/f', R, NO_LINKS);
      assert.equal(f.path, path.join(root, 'd', 'f'));
      assert.deepEqual(await f.read(100), { count: 6, data: Buffer.from('inside'), eof: true });
      await f.close();
    });

    test('a symlink anywhere on the way is ELOOP, and nothing is created through one', async () => {
      const { root, out } = tree();
      const fa = make();
      for (const [rel, mode] of [
        ['filelink', R],
        ['dirlink/secret', R],
        ['dirlink/new', W],
        ['dirlink/new', A],
        ['dangling', W],
      ] as const) {
        await assert.rejects(fa.openBeneath(root, rel, mode, NO_LINKS), { code: 'ELOOP' }, rel);
      }
      assert.deepEqual(readdirSync(out), ['secret']);
      assert.equal(readFileSync(path.join(out, 'secret'), 'utf8'), 'outside');
    });

    test("'..', '.', empty and absolute relative paths are EINVAL", async () => {
      const { root } = tree();
      for (const rel of ['../out/secret', 'd/../d/f', './d/f', 'd//f', '/etc/passwd', '', 'd/f\0/../../x']) {
        await assert.rejects(make().openBeneath(root, rel, R, NO_LINKS), { code: 'EINVAL' }, rel);
      }
    });

    test('a file with another hard link is EMLINK (not truncated by w), unless allowed', async () => {
      const { root, out } = tree();
      for (const mode of [R, W, A]) {
        await assert.rejects(make().openBeneath(root, 'hard', mode, NO_LINKS), { code: 'EMLINK', links: 2 });
      }
      assert.equal(readFileSync(path.join(out, 'secret'), 'utf8'), 'outside');
      const f = await make().openBeneath(root, 'hard', R, { allowHardLinks: true });
      assert.equal((await f.read(100)).data.toString(), 'outside');
      await f.close();
    });

    test('w creates 0600 files and truncates existing ones; a missing file or root is ENOENT', async () => {
      const { root } = tree();
      const fa = make();
      const created = await fa.openBeneath(root, 'd/new', W, NO_LINKS);
      await created.write(Buffer.from('abc'));
      await created.close();
      assert.equal(statSync(path.join(root, 'd', 'new')).mode & 0o777, 0o600);
      const again = await fa.openBeneath(root, 'd/new', W, NO_LINKS);
      await again.close();
      assert.equal(readFileSync(path.join(root, 'd', 'new'), 'utf8'), '');
      await assert.rejects(fa.openBeneath(root, 'd/missing', R, NO_LINKS), { code: 'ENOENT' });
      await assert.rejects(fa.openBeneath(root, 'nodir/x', W, NO_LINKS), { code: 'ENOENT' });
      await assert.rejects(fa.openBeneath(path.join(root, 'no-root'), 'x', R, NO_LINKS), { code: 'ENOENT' });
    });
  });
}

test('canonical(): entries with their own symlinks resolved; a missing file entry by its parent; a missing directory: undefined', async () => {
  const { root } = tree();
  const alias = path.join(work, `alias${n}`);
  symlinkSync(root, alias);
  const fa = createFileAccess({ native: undefined });
  assert.equal(await fa.canonical(`${alias}/`), root);
  assert.equal(await fa.canonical(`${alias}/d/f`), path.join(root, 'd', 'f'));
  assert.equal(await fa.canonical(`${alias}/d/not-yet`), path.join(root, 'd', 'not-yet'));
  assert.equal(await fa.canonical(`${alias}/missing/`), undefined);
  assert.equal(await fa.canonical(`${alias}/missing/x`), undefined);
  assert.equal(await fa.canonical('/'), '/');
});
