// The guest-file-open race of issue 13, as a local guest user would run it against the agent (a real
// process, root here): `DIR/` is allow-listed; `DIR/r` is a directory holding `shadow`, and an attacker
// swaps it with a symlink to a directory outside the list that holds another `shadow`
// (renameat2 RENAME_EXCHANGE in a tight loop). A checker that resolves the path and then opens it again
// loses that race: on the code before the fix, 13-46% of the opens returned the outside file, and with
// --allow-file-write mode 'a' created files outside. Opening beneath the allow-listed root with
// openat2(RESOLVE_BENEATH|RESOLVE_NO_SYMLINKS) must give zero escapes; every successful open must read
// the file inside the tree.
import assert from 'node:assert/strict';
import { mkdirSync, readdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { before, describe, type TestContext, test } from 'node:test';
import { QgaClient, QgaRemoteError } from '../../src/host/client.js';
import { makeTempDir, type Peer, startGuestlink } from '../peer/harness.js';
import { buildSwapper, HAVE_CC, startSwapper } from './swapper.js';

/** Opens per test; GUESTLINK_RACE_OPENS lowers it for a quick look (the suite uses the default). */
const OPENS = Number(process.env.GUESTLINK_RACE_OPENS ?? 20_000);
/** Requests in flight at once: enough to keep the agent busy, below the handle cap. */
const CONCURRENCY = 32;
const INSIDE = 'inside the allow-list\n';
const OUTSIDE = 'root-only secret outside the allow-list\n';
const skip = HAVE_CC ? false : process.env.CI ? false : 'no C compiler (cc) to build the attacker';

interface Tree {
  dir: string;
  allowed: string;
  outside: string;
  swapper: string;
}

/** DIR/r/shadow inside, OUT/shadow outside (0600), DIR/swap -> OUT: the pair the attacker exchanges. */
function makeTree(work: string, name: string): Tree {
  const dir = path.join(work, name);
  const allowed = path.join(dir, 'allowed');
  const outside = path.join(dir, 'outside');
  mkdirSync(path.join(allowed, 'r'), { recursive: true });
  mkdirSync(outside);
  writeFileSync(path.join(allowed, 'r', 'shadow'), INSIDE);
  writeFileSync(path.join(outside, 'shadow'), OUTSIDE, { mode: 0o600 });
  symlinkSync(outside, path.join(allowed, 'swap'));
  return { dir, allowed, outside, swapper: buildSwapper(dir) };
}

/** Runs `one(i)` for i in [0, n) with `CONCURRENCY` in flight. */
async function inParallel(n: number, one: (i: number) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < n) await one(next++);
  };
  await Promise.all(Array.from({ length: CONCURRENCY }, worker));
}

/** An error the agent answered with (a refusal) is fine; anything else (a timeout, a dead agent) is not. */
function refusal(err: unknown): string {
  if (err instanceof QgaRemoteError) return err.message;
  throw err;
}

describe('guest-file-open against a rename-exchange race', { skip }, () => {
  const work = makeTempDir('guestlink-race-');

  /** The agent on a tree, and a client; both stopped when the test ends, whatever its outcome. */
  async function start(t: TestContext, tree: Tree, args: string[]): Promise<{ agent: Peer; client: QgaClient }> {
    const agent = await startGuestlink(tree.dir, args);
    t.after(() => agent.stop());
    const client = await QgaClient.connectUnix(agent.socket);
    t.after(() => client.close());
    return { agent, client };
  }

  test(`reading: ${OPENS} opens of DIR/r/shadow while r is swapped with a symlink to outside: zero escapes`, async (t) => {
    const tree = makeTree(work, 'read');
    const { client } = await start(t, tree, ['--allow-file-read', `${tree.allowed}/`]);
    const swapper = startSwapper(tree.swapper, path.join(tree.allowed, 'r'), path.join(tree.allowed, 'swap'));
    const t0 = Date.now();
    let opened = 0;
    const escapes: string[] = [];
    const refusals = new Map<string, number>();
    try {
      await inParallel(OPENS, async () => {
        let handle: number;
        try {
          handle = (await client.call(
            'guest-file-open',
            { path: path.join(tree.allowed, 'r', 'shadow') },
            { timeoutMs: 30_000 },
          )) as number;
        } catch (err) {
          const why = refusal(err);
          refusals.set(why, (refusals.get(why) ?? 0) + 1);
          return;
        }
        opened++;
        const r = (await client.call('guest-file-read', { handle, count: 4096 }, { timeoutMs: 30_000 })) as { 'buf-b64': string };
        const text = Buffer.from(r['buf-b64'], 'base64').toString();
        if (text !== INSIDE) escapes.push(text);
        await client.call('guest-file-close', { handle }, { timeoutMs: 30_000 });
      });
    } finally {
      const swaps = await swapper.stop();
      t.diagnostic(`${swaps} swaps in ${Date.now() - t0} ms; ${opened} opens succeeded, ${escapes.length} of them outside the list`);
      for (const [why, n] of refusals) t.diagnostic(`${n} refused: ${why}`);
      assert.ok(swaps > 0, 'the attacker never swapped');
    }
    assert.ok(opened > 0, 'no open succeeded: the test shows nothing');
    assert.equal(
      escapes.length,
      0,
      `${escapes.length} of ${opened} opens (${((100 * escapes.length) / opened).toFixed(1)}%) read the file outside the list`,
    );
  });

  test(`writing: ${OPENS} opens of DIR/r/new-N with mode 'a' while r is swapped: nothing created outside`, async (t) => {
    const tree = makeTree(work, 'write');
    const { client } = await start(t, tree, ['--allow-file-write', `${tree.allowed}/`]);
    const swapper = startSwapper(tree.swapper, path.join(tree.allowed, 'r'), path.join(tree.allowed, 'swap'));
    const t0 = Date.now();
    let opened = 0;
    try {
      await inParallel(OPENS, async (i) => {
        let handle: number;
        try {
          handle = (await client.call(
            'guest-file-open',
            { path: path.join(tree.allowed, 'r', `new-${i}`), mode: 'a' },
            { timeoutMs: 30_000 },
          )) as number;
        } catch (err) {
          refusal(err);
          return;
        }
        opened++;
        await client.call('guest-file-write', { handle, 'buf-b64': Buffer.from('written\n').toString('base64') }, { timeoutMs: 30_000 });
        await client.call('guest-file-close', { handle }, { timeoutMs: 30_000 });
      });
    } finally {
      const swaps = await swapper.stop();
      t.diagnostic(`${swaps} swaps in ${Date.now() - t0} ms; ${opened} opens succeeded`);
      assert.ok(swaps > 0, 'the attacker never swapped');
    }
    const created = readdirSync(tree.outside).filter((f) => f !== 'shadow');
    t.diagnostic(`${created.length} files created outside the list`);
    assert.ok(opened > 0, 'no open succeeded: the test shows nothing');
    assert.deepEqual(created.slice(0, 5), [], `${created.length} of ${opened} opens created a file outside the list`);
    assert.equal(readFileSync(path.join(tree.outside, 'shadow'), 'utf8'), OUTSIDE);
  });
});

before(() => {
  if (!HAVE_CC && process.env.CI) throw new Error('a C compiler (cc) is required under CI: the race attacker is compiled by the test');
});
