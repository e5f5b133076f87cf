// The state file's checker: the right shape passes unchanged, anything else is refused at its path.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { array, bool, isoTime, num, oneOf, optional, ShapeError, str, strictObject } from './shape.js';

const node = strictObject({ name: str(8), ok: bool, n: num(0), ms: optional(num(0, false)), at: optional(isoTime) });
const file = strictObject({ version: oneOf([1]), mode: oneOf(['a', 'b']), nodes: array(node) });

const refused = (value: unknown, path: string) =>
  assert.throws(
    () => file.check(value, ''),
    (e: unknown) => e instanceof ShapeError && e.path === path,
  );

test('a well-formed value is returned as it was, optional fields absent or present', () => {
  const v = {
    version: 1,
    mode: 'b',
    nodes: [
      { name: 'n1', ok: true, n: 0 },
      { name: 'n2', ok: false, n: 3, ms: 0.5, at: '2026-12-03T00:10:00.123Z' },
    ],
  };
  assert.deepEqual(file.check(v, ''), v);
});

test('every kind of mismatch is refused with the dot path of the first wrong field', () => {
  const good = { name: 'n', ok: true, n: 1 };
  refused(null, '');
  refused([], '');
  refused({ version: 2, mode: 'a', nodes: [] }, 'version');
  refused({ version: 1, mode: 'c', nodes: [] }, 'mode');
  refused({ version: 1, mode: 'a' }, 'nodes');
  refused({ version: 1, mode: 'a', nodes: {} }, 'nodes');
  refused({ version: 1, mode: 'a', nodes: [], extra: 1 }, 'extra');
  refused({ version: 1, mode: 'a', nodes: [good, { ...good, name: 'x'.repeat(9) }] }, 'nodes.1.name');
  refused({ version: 1, mode: 'a', nodes: [{ ...good, ok: 'true' }] }, 'nodes.0.ok');
  refused({ version: 1, mode: 'a', nodes: [{ ...good, n: -1 }] }, 'nodes.0.n');
  refused({ version: 1, mode: 'a', nodes: [{ ...good, n: 1.5 }] }, 'nodes.0.n');
  refused({ version: 1, mode: 'a', nodes: [{ ...good, n: Number.NaN }] }, 'nodes.0.n');
  refused({ version: 1, mode: 'a', nodes: [{ ...good, ms: -0.1 }] }, 'nodes.0.ms');
  refused({ version: 1, mode: 'a', nodes: [{ ...good, at: 'yesterday' }] }, 'nodes.0.at');
  refused({ version: 1, mode: 'a', nodes: [{ ...good, at: '2026-13-45T99:00:00Z' }] }, 'nodes.0.at');
  // A "__proto__" key from JSON.parse is an own field: refused like any unknown one.
  refused(JSON.parse('{"version":1,"mode":"a","nodes":[],"__proto__":{"x":1}}'), '__proto__');
});
