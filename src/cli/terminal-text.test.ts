import assert from 'node:assert/strict';
import { test } from 'node:test';
import YAML from 'yaml';
import { prettyJson, renderData, table } from './output.js';
import { jsonSafe, terminalSafe, yamlSafe } from './terminal-text.js';

const HOSTILE = 'a\x1b]0;owned\x07b\u009b2Jc\x7fd\ud800e\tf\ng\u202eh';

test('tables and lines: every control character is a visible escape', () => {
  const s = terminalSafe(HOSTILE);
  assert.equal(s, 'a\\x1b]0;owned\\x07b\\x9b2Jc\\x7fd\\ud800e\\tf\\ng\\u202eh');
  assert.doesNotMatch(table(['H'], [[HOSTILE]]), /[\x00-\x09\x0b-\x1f\x7f-\x9f]/);
  assert.equal(terminalSafe('plain ünïcode 😀'), 'plain ünïcode 😀');
});

test('JSON stays exact: the same string comes back, with no raw control character in the text', () => {
  const text = prettyJson({ [HOSTILE]: HOSTILE });
  assert.doesNotMatch(text, /[\x00-\x09\x0b-\x1f\x7f-\x9f\u202e]/);
  const back = JSON.parse(text);
  assert.deepEqual(Object.keys(back), [HOSTILE]);
  assert.equal(back[HOSTILE], HOSTILE);
  assert.equal(jsonSafe(JSON.stringify('\u0085')), '"\\u0085"');
});

test('YAML keeps the value exact and shows no raw control character', () => {
  const data = { [HOSTILE]: [HOSTILE, 'fine', `${'long '.repeat(30)}\u009b`], n: 1 };
  const text = yamlSafe(data);
  assert.doesNotMatch(text, /[\x00-\x09\x0b-\x1f\x7f-\x9f\u202e]/);
  assert.deepEqual(YAML.parse(text), data);
  assert.equal(renderData('yaml', { k: 'ok' }), 'k: ok\n');
});
