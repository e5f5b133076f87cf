// The fsfreeze hook runner against small scripts in a temp dir: argument, exit status, qemu-ga's texts.
import assert from 'node:assert/strict';
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import type { QgaError } from '../../protocol/qga/errors.js';
import { runFsfreezeHook } from './freeze-hook.js';

let dir: string;
function script(name: string, body: string, mode = 0o755): string {
  const p = path.join(dir, name);
  writeFileSync(p, `#!/bin/sh\n${body}\n`);
  chmodSync(p, mode);
  return p;
}
before(() => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'guestlink-hook-'));
});
after(() => rmSync(dir, { recursive: true, force: true }));

test('runs the hook with its argument, stdio on /dev/null', async () => {
  const out = path.join(dir, 'out');
  const hook = script('ok', `echo "$1 $(readlink /proc/$$/fd/0) $(readlink /proc/$$/fd/2)" > ${out}`);
  await runFsfreezeHook(hook, 'freeze');
  assert.equal(readFileSync(out, 'utf8'), 'freeze /dev/null /dev/null\n');
  await runFsfreezeHook(hook, 'thaw');
  assert.match(readFileSync(out, 'utf8'), /^thaw /);
});

test('errors read like qemu-ga', async () => {
  await assert.rejects(
    runFsfreezeHook(script('fail', 'exit 3'), 'freeze'),
    (e: QgaError) => e.desc === 'fsfreeze hook has failed with status 3',
  );
  await assert.rejects(
    runFsfreezeHook(script('kill', 'kill -9 $$'), 'freeze'),
    (e: QgaError) => e.desc === 'fsfreeze hook has terminated abnormally',
  );
  const missing = path.join(dir, 'missing');
  await assert.rejects(
    runFsfreezeHook(missing, 'freeze'),
    (e: QgaError) => e.desc === `can't access fsfreeze hook '${missing}': No such file or directory`,
  );
  const noexec = script('noexec', 'exit 0', 0o644);
  // root passes X_OK checks only when some x bit is set: 0644 is refused for everyone
  await assert.rejects(
    runFsfreezeHook(noexec, 'thaw'),
    (e: QgaError) => e.desc === `can't access fsfreeze hook '${noexec}': Permission denied`,
  );
});
