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
