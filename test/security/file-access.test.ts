// guest-file-* as a local guest user (who can write inside an allow-listed tree) and a flooding host
// would attack it, against the agent as a real process: a hard link to a root-only file placed in the
// tree, symlinks and '..' in the requested path, more handles than the cap (the agent's descriptors stay
// bounded, earlier handles keep working, also from another connection), and the audit line naming the file
// really opened. (The rename race: file-race.test.ts; the opener's fallbacks: file-opener-race.test.ts.)
import assert from 'node:assert/strict';
import { linkSync, mkdirSync, readdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { before, describe, test } from 'node:test';
import { QgaClient, QgaRemoteError } from '../../src/host/client.js';
import { makeTempDir, type Peer, startGuestlink } from '../peer/harness.js';

const work = makeTempDir('guestlink-file-attack-');
const allowed = path.join(work, 'allowed');
const outside = path.join(work, 'outside');
const SECRET = 'root-only secret\n';

before(() => {
  mkdirSync(path.join(allowed, 'sub'), { recursive: true });
  mkdirSync(outside);
  writeFileSync(path.join(allowed, 'plain'), 'plain file\n');
  writeFileSync(path.join(outside, 'secret'), SECRET, { mode: 0o600 });
  linkSync(path.join(outside, 'secret'), path.join(allowed, 'hardlink'));
  symlinkSync(path.join(outside, 'secret'), path.join(allowed, 'symlink'));
  symlinkSync(outside, path.join(allowed, 'dirlink'));
  symlinkSync('plain', path.join(allowed, 'inner-link'));
  // An alias of the allowed tree, to show the audit line names the canonical path.
  symlinkSync(allowed, path.join(work, 'alias'));
});

async function startAgent(
  t: { after: (fn: () => unknown) => void },
  name: string,
  args: string[],
): Promise<{ agent: Peer; client: QgaClient }> {
  const dir = path.join(work, name);
  mkdirSync(dir);
  const agent = await startGuestlink(dir, ['-l', path.join(dir, 'agent.log'), ...args]);
  t.after(() => agent.stop());
  const client = await QgaClient.connectUnix(agent.socket);
  t.after(() => client.close());
  return { agent, client };
}

const open = (c: QgaClient, p: string, mode = 'r') => c.call('guest-file-open', { path: p, mode }) as Promise<number>;
async function readAll(c: QgaClient, handle: number): Promise<string> {
  const r = (await c.call('guest-file-read', { handle, count: 65536 })) as { 'buf-b64': string };
  return Buffer.from(r['buf-b64'], 'base64').toString();
}

describe('guest-file-open refuses what would lead outside the list', () => {
  test('a hard link to a 0600 file outside, placed inside: refused in every mode, the outside file untouched', async (t) => {
    const { client } = await startAgent(t, 'hardlink', ['--allow-file-read', `${allowed}/`, '--allow-file-write', `${allowed}/`]);
    for (const mode of ['r', 'r+', 'w', 'a']) {
      await assert.rejects(open(client, path.join(allowed, 'hardlink'), mode), (err: QgaRemoteError) => {
        assert.match(
          err.message,
          /has 2 hard links, and another name of it may be outside the allow-list \(allow such files with --allow-file-hardlinks\)/,
        );
        return true;
      });
    }
    assert.equal(readFileSync(path.join(outside, 'secret'), 'utf8'), SECRET);
  });

  test('--allow-file-hardlinks lets the administrator accept them', async (t) => {
    const { client } = await startAgent(t, 'hardlink-allowed', ['--allow-file-read', `${allowed}/`, '--allow-file-hardlinks']);
    const handle = await open(client, path.join(allowed, 'hardlink'));
    assert.equal(await readAll(client, handle), SECRET);
    await client.call('guest-file-close', { handle });
  });

  test("symlinks (to outside, to a directory outside, even to a file inside) and '..' are refused", async (t) => {
    const { client } = await startAgent(t, 'links', ['--allow-file-read', `${allowed}/`, '--allow-file-write', `${allowed}/`]);
    for (const [p, mode] of [
      [path.join(allowed, 'symlink'), 'r'],
      [path.join(allowed, 'dirlink', 'secret'), 'r'],
      [path.join(allowed, 'dirlink', 'created'), 'w'],
      [path.join(allowed, 'inner-link'), 'r'],
    ] as const) {
      await assert.rejects(open(client, p, mode), /goes through a symbolic link beneath '.*', which guestlink does not follow/, p);
    }
    for (const p of [`${allowed}/../outside/secret`, `${allowed}/sub/../plain`, `${allowed}/sub/../../outside/new`]) {
      await assert.rejects(open(client, p, p.endsWith('new') ? 'w' : 'r'), /contains '\.\.', which guestlink refuses/, p);
    }
    assert.deepEqual(readdirSync(outside), ['secret'], 'nothing was created outside');
  });
});

describe('the handle cap', () => {
  test('a flood of opens: the cap holds, the refusal names it, earlier handles work from another connection', async (t) => {
    const { agent, client } = await startAgent(t, 'flood', ['--allow-file-read', `${allowed}/`]);
    const fds = () => readdirSync(`/proc/${agent.pid}/fd`).length;
    const fdsBefore = fds();
    const handles: number[] = [];
    const refusals = new Set<string>();
    // 1,000 opens, 32 in flight at a time: 128 (the default cap) succeed.
    for (let i = 0; i < 1000; i += 32) {
      const batch = await Promise.allSettled(Array.from({ length: 32 }, () => open(client, path.join(allowed, 'plain'))));
      for (const r of batch) {
        if (r.status === 'fulfilled') handles.push(r.value);
        else if (r.reason instanceof QgaRemoteError) refusals.add(r.reason.message);
        else throw r.reason;
      }
    }
    assert.equal(handles.length, 128);
    assert.deepEqual(
      [...refusals],
      [
        'GenericError: guest-file-open: too many open handles (the limit is 128, shared by all connections): close some with guest-file-close, or raise --max-file-handles',
      ],
    );
    const fdsAfter = fds();
    t.diagnostic(`agent fds ${fdsBefore} -> ${fdsAfter}, rss ${agent.rssKiB()} KiB`);
    assert.ok(fdsAfter - fdsBefore <= 128 + 4, `the agent holds ${fdsAfter - fdsBefore} more descriptors than before the flood`);
    // Proxmox opens a new connection per command: handles outlive the connection that opened them.
    client.close();
    const other = await QgaClient.connectUnix(agent.socket);
    t.after(() => other.close());
    assert.equal(await readAll(other, handles[0] as number), 'plain file\n');
    await other.call('guest-file-close', { handle: handles[0] as number });
    const again = await open(other, path.join(allowed, 'plain'));
    await assert.rejects(open(other, path.join(allowed, 'plain')), /too many open handles \(the limit is 128/);
    for (const h of [again, ...handles.slice(1)]) await other.call('guest-file-close', { handle: h });
    assert.ok(fds() <= fdsBefore + 2, 'closed handles gave their descriptors back');
  });

  test('--max-file-handles changes the limit', async (t) => {
    const { client } = await startAgent(t, 'cap-2', ['--allow-file-read', `${allowed}/`, '--max-file-handles', '2']);
    await open(client, path.join(allowed, 'plain'));
    await open(client, path.join(allowed, 'plain'));
    await assert.rejects(open(client, path.join(allowed, 'plain')), /too many open handles \(the limit is 2, shared by all connections\)/);
  });
});

describe('the audit line', () => {
  test('records the path really opened (canonical, through an aliased spelling), and on refusals what was tried', async (t) => {
    const { agent, client } = await startAgent(t, 'audit', ['--allow-file-read', `${path.join(work, 'alias')}/`]);
    const handle = await open(client, `${path.join(work, 'alias')}//./plain`);
    await client.call('guest-file-close', { handle });
    await assert.rejects(open(client, `${path.join(work, 'alias')}/symlink`), /symbolic link/);
    const log = path.join(work, 'audit', 'agent.log');
    const audit = readFileSync(log, 'utf8')
      .split('\n')
      .filter((l) => l.includes('"audit":true'))
      .map((l) => JSON.parse(l) as Record<string, any>);
    const opens = audit.filter((a) => a.command === 'guest-file-open');
    assert.equal(opens.length, 2, agent.stderr());
    assert.equal(opens[0]?.args.path, `${path.join(work, 'alias')}//./plain`);
    assert.equal(opens[0]?.resolvedPath, path.join(allowed, 'plain'));
    assert.equal(opens[0]?.outcome, 'ok');
    assert.equal(opens[1]?.resolvedPath, path.join(allowed, 'symlink'));
    assert.equal(opens[1]?.outcome, 'error');
    const close = audit.find((a) => a.command === 'guest-file-close');
    assert.equal(close?.resolvedPath, path.join(allowed, 'plain'));
  });
});
