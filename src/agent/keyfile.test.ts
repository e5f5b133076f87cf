import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { formatKeyFile, parseKeyFile, splitList } from './keyfile.js';

describe('key files', () => {
  it('parses groups, comments, escapes and reports bad lines with their number', () => {
    const kf = parseKeyFile('# c\n\n[general]\npath = /a\\sb\n[x]\nk=v\n');
    assert.equal(kf.get('general')?.get('path'), '/a b');
    assert.equal(kf.get('x')?.get('k'), 'v');
    assert.throws(() => parseKeyFile('[g]\nnot a pair\n', 'f.conf'), /f\.conf:2/);
    assert.throws(() => parseKeyFile('k=v\n'), /expected/);
    // A bad line is located, never repeated (it may hold a value nobody should see in an error).
    assert.throws(
      () => parseKeyFile('[g]\nsecret-token-value\n', 'f.conf'),
      (err: Error) => !err.message.includes('secret-token'),
    );
  });

  it('splits lists on ; and , and formats groups', () => {
    assert.deepEqual(splitList('a;b,c;;'), ['a', 'b', 'c']);
    assert.equal(
      formatKeyFile([
        ['g', [['k', 'v']]],
        ['h', []],
      ]),
      '[g]\nk=v\n\n[h]\n\n',
    );
  });
});
