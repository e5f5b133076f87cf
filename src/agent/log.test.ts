import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { FROZEN_LOG_LIMIT, FreezeAwareDestination } from './log.js';

describe('logging while frozen', () => {
  it('holds lines while frozen and writes them, in order, with the next line after the thaw', () => {
    const out: string[] = [];
    let frozen = false;
    const d = new FreezeAwareDestination({ write: (l: string) => out.push(l) }, () => frozen);
    d.write('a\n');
    frozen = true;
    d.write('b\n');
    d.write('c\n');
    assert.deepEqual(out, ['a\n']);
    frozen = false;
    d.write('d\n');
    assert.deepEqual(out, ['a\n', 'b\n', 'c\n', 'd\n']);
  });

  it('keeps a bounded number of lines and says how many it dropped', () => {
    const out: string[] = [];
    let frozen = true;
    const d = new FreezeAwareDestination({ write: (l: string) => out.push(l) }, () => frozen);
    for (let i = 0; i < FROZEN_LOG_LIMIT + 5; i++) d.write(`${i}\n`);
    frozen = false;
    d.flush();
    assert.equal(out.length, FROZEN_LOG_LIMIT + 1);
    assert.match(out[0] as string, /5 log lines dropped while frozen/);
    assert.equal(out[1], '5\n');
  });
});
