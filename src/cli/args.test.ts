import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { findCommand } from '../protocol/qga/commands.js';
import { buildArguments, UsageError } from './args.js';

const spec = (name: string) => {
  const s = findCommand(name);
  if (!s) throw new Error(name);
  return s;
};

describe('guestlink call: --arg key=value typed by the command table', () => {
  it('types integers (64-bit exact), booleans, strings and lists from the table', () => {
    assert.deepEqual(buildArguments('guest-sync', spec('guest-sync'), ['id=9223372036854775807']), {
      id: 9223372036854775807n,
    });
    assert.deepEqual(buildArguments('guest-sync', spec('guest-sync'), ['id=42']), { id: 42 });
    assert.deepEqual(buildArguments('guest-exec', spec('guest-exec'), ['path=/bin/echo', 'arg=a,b', 'capture-output=true']), {
      path: '/bin/echo',
      arg: ['a', 'b'],
      'capture-output': true,
    });
    assert.deepEqual(buildArguments('guest-exec', spec('guest-exec'), ['arg=["x,y"]']), { arg: ['x,y'] });
    assert.deepEqual(buildArguments('guest-file-seek', spec('guest-file-seek'), ['handle=1000', 'offset=0', 'whence=set']), {
      handle: 1000,
      offset: 0,
      whence: 'set',
    });
    assert.deepEqual(buildArguments('guest-shutdown', spec('guest-shutdown'), [], '{"mode":"halt"}'), { mode: 'halt' });
  });

  it('says what the command takes when a key is unknown or a value has the wrong type', () => {
    assert.throws(
      () => buildArguments('guest-ping', spec('guest-ping'), ['x=1']),
      (e: Error) => e instanceof UsageError && /takes none/.test(e.message),
    );
    assert.throws(() => buildArguments('guest-sync', spec('guest-sync'), ['nope=1']), /it takes: id/);
    assert.throws(() => buildArguments('guest-sync', spec('guest-sync'), ['id=abc']), /an integer is expected/);
    assert.throws(
      () => buildArguments('guest-ssh-add-authorized-keys', spec('guest-ssh-add-authorized-keys'), ['reset=maybe']),
      /true or false/,
    );
    assert.throws(() => buildArguments('guest-sync', spec('guest-sync'), ['id']), /expected key=value/);
  });
});
