// What reaches the terminal from guests and API servers: escaped, cut, never raw control bytes.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { isNodeName, printable } from './names.js';

test('printable escapes control, format and non-ASCII characters and doubles backslashes', () => {
  assert.equal(printable('node-1.example'), 'node-1.example');
  assert.equal(printable('\x1b]0;pwned\x07'), '\\x1b]0;pwned\\x07');
  assert.equal(printable('a\r\nb\tc\x00'), 'a\\x0d\\x0ab\\x09c\\x00');
  assert.equal(printable('\u202eevil\u200b'), '\\u202eevil\\u200b');
  assert.equal(printable('\x9b31m'), '\\x9b31m');
  assert.equal(printable('😀'), '\\u{1f600}');
  assert.equal(printable('back\\slash'), 'back\\\\slash');
  assert.equal(printable('x'.repeat(10), 4), 'xxxx...(6 more)');
  assert.doesNotMatch(printable(String.fromCharCode(...Array.from({ length: 256 }, (_, i) => i))), /[\x00-\x1f\x7f-\x9f]/);
});

test('isNodeName: DNS-1123 subdomains only', () => {
  for (const ok of ['a', 'node-1', 'k8s-w1.example.com', 'x'.repeat(63)]) assert.ok(isNodeName(ok), ok);
  for (const bad of ['', 'A', '-a', 'a-', 'a..b', 'a_b', 'a b', 'a\x1b', 'x'.repeat(254), '../etc', 'a/b'])
    assert.ok(!isNodeName(bad), bad);
});
