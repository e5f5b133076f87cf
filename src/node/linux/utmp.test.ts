import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseUtmp, USER_PROCESS, UTMP, utmpRecord } from './utmp.js';

describe('utmp parsing', () => {
  it('reports each USER_PROCESS user once, with the earliest login time as seconds.microseconds', () => {
    const buf = Buffer.concat([
      utmpRecord(2, 'reboot', 1700000000, 0), // BOOT_TIME: ignored
      utmpRecord(USER_PROCESS, 'alice', 1700000500, 250000),
      utmpRecord(USER_PROCESS, 'bob', 1700000600, 1),
      utmpRecord(USER_PROCESS, 'alice', 1700000100, 500000),
      utmpRecord(8, 'carol', 1700000700, 0), // DEAD_PROCESS: ignored
      utmpRecord(USER_PROCESS, 'alice', 1700000900, 0),
    ]);
    assert.deepEqual(parseUtmp(buf), [
      { user: 'alice', loginTime: 1700000100.5 },
      { user: 'bob', loginTime: 1700000600 + 1 / 1000000 },
    ]);
  });

  it('handles a full 32-byte name without NUL and ignores a trailing partial record', () => {
    const name = 'u'.repeat(32);
    const buf = Buffer.concat([utmpRecord(USER_PROCESS, name, 5, 0), Buffer.alloc(100)]);
    assert.equal(UTMP.size, 384);
    assert.deepEqual(parseUtmp(buf), [{ user: name, loginTime: 5 }]);
  });

  it('reads big-endian records when asked', () => {
    assert.deepEqual(parseUtmp(utmpRecord(USER_PROCESS, 'be', 7, 3, false), false), [{ user: 'be', loginTime: 7.000003 }]);
  });
});
