import assert from 'node:assert/strict';
import { linkSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, test } from 'node:test';
import { loadNative } from '../native/addon.js';
import { createFileAccess } from '../node/files/file-access.js';
import { type JsonValue, writeJson } from '../protocol/qga/json-value.js';
import type { CommandContext, Handler } from './context.js';
import { makeFileHandlers } from './file.js';
import { FileTable } from './file-table.js';

const dir = mkdtempSync(path.join(os.tmpdir(), 'guestlink-file-'));
const table = new FileTable(4);
after(async () => {
  await table.closeAll();
  rmSync(dir, { recursive: true, force: true });
});
const data = path.join(dir, 'data');
mkdirSync(data);
mkdirSync(path.join(dir, 'ro'));
writeFileSync(path.join(dir, 'ro', 'r.txt'), 'read only');
writeFileSync(path.join(dir, 'secret'), 'secret');
symlinkSync(path.join(dir, 'secret'), path.join(data, 'link'));
let next = 1000;
/** What the handlers added to the audit line of the last call. */
let audited: Record<string, unknown> = {};
const ctx = {
  node: { files: createFileAccess({ native: loadNative() }) },
  settings: { allowFileRead: [`${data}/`, `${dir}/ro/`], allowFileWrite: [`${data}/`], allowFileHardlinks: false },
  state: { nextFileHandle: async () => next++ },
  audit: (fields: Record<string, unknown>) => Object.assign(audited, fields),
} as unknown as CommandContext;
const h: Readonly<Record<string, Handler>> = makeFileHandlers(table);
// Results as the client sees them: base64 payloads (kept as bytes until the reply is written) become strings.
const call = async (name: string, args: Record<string, unknown>) => {
  audited = {};
  return JSON.parse(writeJson((await h[name]?.(args, ctx)) as JsonValue)) as any;
};

test('w+ write, seek, read: counts, eof as qemu-ga, key order', async () => {
  const f = path.join(data, 'a.txt');
  const handle = await call('guest-file-open', { path: f, mode: 'w+' });
  assert.equal(typeof handle, 'number');
  assert.equal(statSync(f).mode & 0o777, 0o600, 'new files are owner-only');
  assert.deepEqual(await call('guest-file-write', { handle, 'buf-b64': 'd3JpdHRlbiBieSBxZ2EK' }), { count: 15, eof: false });
  assert.deepEqual(await call('guest-file-read', { handle }), { count: 0, 'buf-b64': '', eof: true }, 'read after write is at the end');
  const seek = await call('guest-file-seek', { handle, offset: 0, whence: 'set' });
  assert.deepEqual(Object.keys(seek), ['eof', 'position']);
  assert.deepEqual(
    await call('guest-file-read', { handle, count: 15 }),
    { count: 15, 'buf-b64': 'd3JpdHRlbiBieSBxZ2EK', eof: false },
    'exactly to the end: no eof yet',
  );
  assert.deepEqual(
    await call('guest-file-read', { handle, count: 0 }),
    { count: 0, 'buf-b64': '', eof: false },
    'count 0 never reports eof',
  );
  assert.deepEqual(await call('guest-file-read', { handle, count: 10 }), { count: 0, 'buf-b64': '', eof: true });
  await call('guest-file-seek', { handle, offset: 5, whence: 2 });
  assert.deepEqual(await call('guest-file-write', { handle, 'buf-b64': 'QUJD', count: 2 }), { count: 2, eof: false });
  assert.deepEqual(readFileSync(f), Buffer.concat([Buffer.from('written by qga\n'), Buffer.alloc(5), Buffer.from('AB')]));
  await call('guest-file-close', { handle });
  await assert.rejects(() => call('guest-file-read', { handle }), { desc: `handle '${handle}' has not been found` });
});

test('argument errors in qemu-ga words', async () => {
  const handle = await call('guest-file-open', { path: path.join(data, 'a.txt') });
  await assert.rejects(() => call('guest-file-read', { handle, count: -1 }), { desc: "value '-1' is invalid for argument count" });
  await assert.rejects(() => call('guest-file-read', { handle, count: 104857600 }), {
    desc: "value '104857600' is invalid for argument count",
  });
  await assert.rejects(() => call('guest-file-write', { handle, 'buf-b64': 'QUJD', count: 4 }), {
    desc: "value '4' is invalid for argument count",
  });
  await assert.rejects(() => call('guest-file-write', { handle, 'buf-b64': 'QUJD' }), {
    desc: 'failed to write to file: Bad file descriptor',
  });
  await assert.rejects(() => call('guest-file-seek', { handle, offset: 0, whence: 3 }), { desc: 'invalid whence code 3' });
  await assert.rejects(() => call('guest-file-seek', { handle, offset: -1, whence: 'set' }), {
    desc: 'failed to seek file: Invalid argument',
  });
  await assert.rejects(() => call('guest-file-open', { path: path.join(data, 'a.txt'), mode: 'zz' }), {
    desc: "invalid file open mode 'zz'",
  });
  await assert.rejects(() => call('guest-file-open', { path: path.join(data, 'nope', 'x') }), {
    desc: `failed to open file '${path.join(data, 'nope', 'x')}' (mode: 'r'): No such file or directory`,
  });
  await assert.rejects(() => call('guest-file-open', { path: data, mode: 'w' }), /not allowed for writing/);
  await call('guest-file-close', { handle });
});

test('append: writes land at the end, position follows', async () => {
  const f = path.join(data, 'c.txt');
  const handle = await call('guest-file-open', { path: f, mode: 'a+' });
  await call('guest-file-write', { handle, 'buf-b64': 'QUJD' });
  assert.deepEqual(await call('guest-file-seek', { handle, offset: 1, whence: 'set' }), { eof: false, position: 1 });
  await call('guest-file-write', { handle, 'buf-b64': 'REVG' });
  assert.deepEqual(await call('guest-file-seek', { handle, offset: 0, whence: 'cur' }), { eof: false, position: 6 });
  assert.equal(readFileSync(f, 'utf8'), 'ABCDEF');
  await call('guest-file-close', { handle });
});

test('refusals name the setting; symlinks and .. are refused, not resolved; read-only entries refuse writes', async () => {
  await assert.rejects(() => call('guest-file-open', { path: '/etc/shadow' }), {
    desc: "guest-file-open: '/etc/shadow' is not allowed for reading (allow it with --allow-file-read)",
  });
  await assert.rejects(() => call('guest-file-open', { path: path.join(data, 'link') }), {
    desc: `guest-file-open: '${path.join(data, 'link')}' goes through a symbolic link beneath '${data}', which guestlink does not follow (name the file itself, by a path without symlinks)`,
  });
  assert.equal(audited.resolvedPath, path.join(data, 'link'), 'the audit line says what was tried');
  await assert.rejects(() => call('guest-file-open', { path: `${data}/../secret`, mode: 'r' }), /contains '\.\.', which guestlink refuses/);
  await assert.rejects(() => call('guest-file-open', { path: `${data}/../data/a.txt`, mode: 'r' }), /contains '\.\.'/);
  await assert.rejects(() => call('guest-file-open', { path: path.join(dir, 'ro', 'r.txt'), mode: 'r+' }), /not allowed for writing/);
  const handle = await call('guest-file-open', { path: path.join(dir, 'ro', 'r.txt'), mode: 'rb' });
  assert.deepEqual(await call('guest-file-read', { handle }), {
    count: 9,
    'buf-b64': Buffer.from('read only').toString('base64'),
    eof: true,
  });
  await call('guest-file-close', { handle });
});

test('a file with another hard link is refused, and "w" does not truncate it first', async () => {
  const outside = path.join(dir, 'outside-0600');
  writeFileSync(outside, 'keep me', { mode: 0o600 });
  linkSync(outside, path.join(data, 'hardlink'));
  for (const mode of ['r', 'w', 'a', 'r+']) {
    await assert.rejects(() => call('guest-file-open', { path: path.join(data, 'hardlink'), mode }), {
      desc: `guest-file-open: '${path.join(data, 'hardlink')}' has 2 hard links, and another name of it may be outside the allow-list (allow such files with --allow-file-hardlinks)`,
    });
  }
  assert.equal(readFileSync(outside, 'utf8'), 'keep me');
});

test('handles are capped: the next open names the limit and the flag, earlier handles keep working', async () => {
  const handles: number[] = [];
  for (let i = 0; i < 4; i++) handles.push(await call('guest-file-open', { path: path.join(dir, 'ro', 'r.txt') }));
  await assert.rejects(() => call('guest-file-open', { path: path.join(dir, 'ro', 'r.txt') }), {
    desc: 'guest-file-open: too many open handles (the limit is 4, shared by all connections): close some with guest-file-close, or raise --max-file-handles',
  });
  assert.equal((await call('guest-file-read', { handle: handles[0] })).count, 9);
  await call('guest-file-close', { handle: handles[0] });
  assert.equal(audited.resolvedPath, path.join(dir, 'ro', 'r.txt'));
  handles[0] = await call('guest-file-open', { path: path.join(dir, 'ro', 'r.txt') });
  for (const handle of handles) await call('guest-file-close', { handle });
  assert.equal(table.size, 0);
});

test('the audit fields carry the path opened, also when it was asked for by another spelling', async () => {
  const handle = await call('guest-file-open', { path: `${data}//./a.txt`, mode: 'a' });
  assert.deepEqual(audited, { resolvedPath: path.join(data, 'a.txt') });
  await call('guest-file-write', { handle, 'buf-b64': 'QQ==' });
  assert.deepEqual(audited, { resolvedPath: path.join(data, 'a.txt') });
  await call('guest-file-close', { handle });
});

test('large reads return exact bytes', async () => {
  const f = path.join(data, 'big.bin');
  const bytes = Buffer.alloc(3 << 20);
  for (let i = 0; i < bytes.length; i++) bytes[i] = (i * 31) & 0xff;
  writeFileSync(f, bytes);
  const handle = await call('guest-file-open', { path: f, mode: 'r' });
  const parts: Buffer[] = [];
  for (;;) {
    const r = await call('guest-file-read', { handle, count: 1 << 20 });
    parts.push(Buffer.from(r['buf-b64'], 'base64'));
    if (r.eof) break;
  }
  assert.deepEqual(Buffer.concat(parts), bytes);
  await call('guest-file-close', { handle });
});
