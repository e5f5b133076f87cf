import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { TooLargeError, UnsafeKubeconfigError } from '../host/errors.js';
import { describeError, EXIT, EXIT_CODES } from './exit-codes.js';

test("docs/cli.md's exit-code table lists the same codes as the table --help is made from", () => {
  const doc = readFileSync(new URL('../../../docs/cli.md', import.meta.url), 'utf8');
  const section = doc.slice(doc.indexOf('## Exit codes'), doc.indexOf('## Shell completion'));
  const documented = [...section.matchAll(/^\| (\d+) \|/gm)].map((m) => Number(m[1]));
  // 255 is documented on the "exec" row with the statuses exec passes through.
  const codes = Object.values(EXIT_CODES)
    .map((c) => c.code)
    .filter((c) => c !== EXIT.execFailed);
  assert.deepEqual(documented, codes);
  assert.match(section, /^\| exec \|.*255 when guestlink itself failed/m);
});

test('refusals of guest data have their own codes', () => {
  assert.equal(describeError(new UnsafeKubeconfigError('x')).code, 7);
  assert.equal(describeError(new TooLargeError('x')).code, 8);
});
