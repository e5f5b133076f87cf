// YAML errors that locate but never quote: the file may hold keys and tokens.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseYamlQuietly, QuietYamlError } from './quiet-yaml.js';

test('valid YAML parses to plain data', () => {
  assert.deepEqual(parseYamlQuietly('a: 1\nb: [x, "y"]\n'), { a: 1, b: ['x', 'y'] });
  assert.equal(parseYamlQuietly(''), null);
});

test('errors give kind, line and column, and no text of the file', () => {
  const secret = 'token: eyJhbGciOiJSUzI1NiJ9.c2VjcmV0';
  for (const [text, kind, line] of [
    [`a: 1\n  ${secret}\n b: 2\n`, /^[A-Z_]+$/, /line \d/],
    [`key: "${secret}\n`, /^MISSING_CHAR$/, /line 2, column 1/],
    [`k: 1\nk: 2 # ${secret}\n`, /^DUPLICATE_KEY$/, /line 2, column 1/],
  ] as const) {
    assert.throws(
      () => parseYamlQuietly(text),
      (err: unknown) => {
        assert.ok(err instanceof QuietYamlError);
        assert.match(err.kind, kind);
        assert.match(err.message, line);
        assert.doesNotMatch(err.message, /eyJ|c2Vj|token/);
        return true;
      },
    );
  }
});
