// The rename-exchange race of file-race.test.ts against each of the opener's fallbacks, in process: the
// openat walk (the addon on a kernel without openat2, simulated with the test-only `walk` option) and the
// verified open (no addon at all). The agent picks openat2 here, so the process-level test does not reach
// these. Zero reads of the outside file, zero files left outside.
import assert from 'node:assert/strict';
import { mkdirSync, readdirSync, symlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { before, describe, test } from 'node:test';
import { loadNative } from '../../src/native/addon.js';
import { createFileAccess } from '../../src/node/files/file-access.js';
import type { FileAccess, FileOpenMode } from '../../src/node/interfaces.js';
import { makeTempDir } from '../peer/harness.js';
import { buildSwapper, HAVE_CC, startSwapper } from './swapper.js';

const OPENS = Number(process.env.GUESTLINK_RACE_OPENS ?? 20_000);
const CONCURRENCY = 16;
const INSIDE = 'inside\n';
const native = loadNative();
const noCc = HAVE_CC ? false : process.env.CI ? false : 'no C compiler (cc) to build the attacker';
const noAddon = native?.openBeneath ? false : process.env.CI ? false : 'the native addon is not built (npm run build:native)';
const R: FileOpenMode = { readable: true, writable: false, create: false, truncate: false, append: false };
const A: FileOpenMode = { readable: false, writable: true, create: true, truncate: false, append: true };

const work = makeTempDir('guestlink-opener-race-');
let swapperExe: string;
before(() => {
  if (noCc === false) swapperExe = buildSwapper(work);
});

let n = 0;
function makeTree() {
  const dir = path.join(work, `t${++n}`);
  const root = path.join(dir, 'allowed');
  const outside = path.join(dir, 'outside');
  mkdirSync(path.join(root, 'r'), { recursive: true });
  mkdirSync(outside);
  writeFileSync(path.join(root, 'r', 'shadow'), INSIDE);
  writeFileSync(path.join(outside, 'shadow'), 'outside\n', { mode: 0o600 });
  symlinkSync(outside, path.join(root, 'swap'));
  return { root, outside };
}

async function inParallel(count: number, one: (i: number) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      while (next < count) await one(next++);
    }),
  );
}

/** Opens that failed with an errno (the refusals) are counted; anything else fails the test. */
function refused(err: unknown): void {
  if (typeof (err as { code?: unknown }).code !== 'string') throw err;
}

const WAYS: [string, () => FileAccess, string | false][] = [
  ['openat-walk', () => createFileAccess({ native, walk: true }), noCc || noAddon],
  ['verify-after-open', () => createFileAccess({ native: undefined }), noCc],
];

for (const [name, make, skip] of WAYS) {
  describe(`${name} against a rename-exchange race`, { skip }, () => {
    test(`${OPENS} reads of r/shadow: none reads the outside file`, async (t) => {
      const { root } = makeTree();
      const fa = make();
      const swapper = startSwapper(swapperExe, path.join(root, 'r'), path.join(root, 'swap'));
      let opened = 0;
      let escapes = 0;
      try {
        await inParallel(OPENS, async () => {
          let f: Awaited<ReturnType<FileAccess['openBeneath']>>;
          try {
            f = await fa.openBeneath(root, 'r/shadow', R, { allowHardLinks: false });
          } catch (err) {
            return refused(err);
          }
          opened++;
          if ((await f.read(100)).data.toString() !== INSIDE) escapes++;
          await f.close();
        });
      } finally {
        t.diagnostic(`${await swapper.stop()} swaps; ${opened} opens, ${escapes} outside`);
      }
      assert.ok(opened > 0, 'no open succeeded: the test shows nothing');
      assert.equal(escapes, 0);
    });

    test(`${OPENS} creates of r/new-N (mode a): no file left outside`, async (t) => {
      const { root, outside } = makeTree();
      const fa = make();
      const swapper = startSwapper(swapperExe, path.join(root, 'r'), path.join(root, 'swap'));
      let opened = 0;
      try {
        await inParallel(OPENS, async (i) => {
          try {
            const f = await fa.openBeneath(root, `r/new-${i}`, A, { allowHardLinks: false });
            opened++;
            await f.write(Buffer.from('x'));
            await f.close();
          } catch (err) {
            refused(err);
          }
        });
      } finally {
        t.diagnostic(`${await swapper.stop()} swaps; ${opened} opens`);
      }
      assert.ok(opened > 0, 'no open succeeded: the test shows nothing');
      assert.deepEqual(readdirSync(outside), ['shadow']);
    });
  });
}
