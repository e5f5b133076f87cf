// The addon's readiness watch from the outside: what happens around it that the transport relies on.
// (Its edge-triggered behaviour and the non-throwing read/write: src/transport/serial-port.test.ts.)
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { nativeReadiness } from './addon.js';

const readiness = nativeReadiness();
const nativeJs = fileURLToPath(new URL('./addon.js', import.meta.url));

// In a child: an exception thrown by the callback must surface as the process's uncaught exception (as from
// any other event source), and the watch must stop cleanly and let the process exit once unwatched.
const CHILD = `
const fs = require('node:fs');
const { execFileSync } = require('node:child_process');
import(${JSON.stringify(nativeJs)}).then(({ nativeReadiness }) => {
  const rd = nativeReadiness();
  const dir = fs.mkdtempSync('/tmp/gl-native-');
  execFileSync('mkfifo', [dir + '/p']);
  const r = fs.openSync(dir + '/p', fs.constants.O_RDWR);
  fs.rmSync(dir, { recursive: true });
  let token;
  process.on('uncaughtException', (err) => {
    console.log('uncaught: ' + err.message);
    rd.unwatch(token);
    fs.closeSync(r);
  });
  token = rd.watch(r, () => {
    throw new Error('boom from the callback');
  });
  fs.writeSync(r, 'x');
});
`;

test('an exception in the watch callback is the uncaught exception, and an unwatched fd lets the process end', {
  skip: readiness ? false : 'native addon not built',
}, () => {
  const r = spawnSync(process.execPath, ['-e', CHILD], { encoding: 'utf8', timeout: 10_000 });
  assert.equal(r.signal, null, `the child hung or died: ${r.stderr}`);
  assert.equal(r.status, 0, r.stderr);
  assert.equal(r.stdout.trim(), 'uncaught: boom from the callback');
});
