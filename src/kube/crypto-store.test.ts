// The key store under <statedir>/crypto: 0700/0600, never follows a planted symlink, never uses a
// key others can read, and leaves no temporary files behind.
import assert from 'node:assert/strict';
import { chmodSync, mkdirSync, mkdtempSync, readdirSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { CryptoStore } from './crypto-store.js';
import { renewAt } from './serving-cert.js';

function tmp(t: { after(f: () => void): void }): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'guestlink-crypto-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

test('files are written 0600 in a 0700 directory and read back; no temporary file stays', (t) => {
  const dir = tmp(t);
  const s = new CryptoStore(dir);
  s.prepare();
  assert.equal(statSync(s.dir).mode & 0o777, 0o700);
  s.saveCurrent('KEY', 'CERT');
  s.savePending({ name: 'csr-1', uid: 'u1', keyPem: 'PENDING' });
  for (const f of readdirSync(s.dir)) assert.equal(statSync(path.join(s.dir, f)).mode & 0o777, 0o600, f);
  assert.deepEqual(readdirSync(s.dir).sort(), ['operational.key', 'operational.pem', 'pending.json', 'pending.key']);
  const unsafe: string[] = [];
  assert.deepEqual(
    s.loadCurrent((w) => unsafe.push(w)),
    { keyPem: 'KEY', certPem: 'CERT' },
  );
  assert.deepEqual(
    s.loadPending((w) => unsafe.push(w)),
    { name: 'csr-1', uid: 'u1', keyPem: 'PENDING' },
  );
  s.saveCurrent('KEY2', 'CERT2');
  assert.deepEqual(
    s.loadCurrent((w) => unsafe.push(w)),
    { keyPem: 'KEY2', certPem: 'CERT2' },
  );
  s.clearPending();
  assert.equal(
    s.loadPending((w) => unsafe.push(w)),
    undefined,
  );
  assert.deepEqual(unsafe, []);
});

test('a key readable by others, a symlink or a non-file is not used, and the reason is given', (t) => {
  const dir = tmp(t);
  const s = new CryptoStore(dir);
  s.prepare();
  s.saveCurrent('KEY', 'CERT');
  const unsafe: string[] = [];
  chmodSync(path.join(s.dir, 'operational.key'), 0o644);
  assert.equal(
    s.loadCurrent((w) => unsafe.push(w)),
    undefined,
  );
  assert.match(unsafe.pop() ?? '', /readable by others \(mode 644\)/);
  rmSync(path.join(s.dir, 'operational.key'));
  writeFileSync(path.join(dir, 'elsewhere'), 'KEY', { mode: 0o600 });
  symlinkSync(path.join(dir, 'elsewhere'), path.join(s.dir, 'operational.key'));
  assert.equal(
    s.loadCurrent((w) => unsafe.push(w)),
    undefined,
  );
  assert.match(unsafe.pop() ?? '', /is a symlink/);
  // Writing replaces the symlink itself (rename), never the file it points to.
  s.saveCurrent('NEW', 'CERT');
  assert.equal(statSync(path.join(dir, 'elsewhere')).size, 3);
  assert.equal(statSync(path.join(s.dir, 'operational.key')).isFile(), true);
  rmSync(path.join(s.dir, 'operational.pem'));
  mkdirSync(path.join(s.dir, 'operational.pem'));
  assert.equal(
    s.loadCurrent((w) => unsafe.push(w)),
    undefined,
  );
  assert.match(unsafe.pop() ?? '', /not a regular file/);
});

test('a crypto directory that is a symlink or writable by others stops the agent with the reason', (t) => {
  const dir = tmp(t);
  mkdirSync(path.join(dir, 'real'));
  symlinkSync(path.join(dir, 'real'), path.join(dir, 'crypto'));
  assert.throws(() => new CryptoStore(dir).prepare(), /is not a directory \(a symlink\?\)/);
  const dir2 = tmp(t);
  mkdirSync(path.join(dir2, 'crypto'), { mode: 0o777 });
  chmodSync(path.join(dir2, 'crypto'), 0o777);
  assert.throws(() => new CryptoStore(dir2).prepare(), /may be written by others/);
});

test('renewal falls due at two thirds of the lifetime', () => {
  assert.equal(renewAt({ notBefore: 0, notAfter: 9000 }), 6000);
  assert.equal(renewAt({ notBefore: 1000, notAfter: 1000 + 30 * 86_400_000 }), 1000 + 20 * 86_400_000);
});
