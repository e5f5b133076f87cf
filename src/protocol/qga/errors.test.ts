import assert from 'node:assert/strict';
import { test } from 'node:test';
import { QgaError, toQgaError } from './errors.js';

test('toQgaError: a coded error keeps its code (an expected failure); bugs are INTERNAL', () => {
  const aborted = Object.assign(new Error('drain aborted: 2 pods blocked'), { code: 'KUBE_DRAIN_ABORTED' });
  assert.deepEqual([toQgaError(aborted).code, toQgaError(aborted).desc], ['KUBE_DRAIN_ABORTED', 'drain aborted: 2 pods blocked']);
  assert.equal(toQgaError(aborted).errorClass, 'GenericError');
  assert.equal(toQgaError(new TypeError('x is undefined')).code, 'INTERNAL');
  assert.equal(toQgaError(Object.assign(new TypeError('bad'), { code: 'ERR_INVALID_ARG_TYPE' })).code, 'INTERNAL');
  assert.equal(toQgaError('thrown string').code, 'INTERNAL');
  const q = new QgaError('CommandNotFound', 'nope', 'X');
  assert.equal(toQgaError(q), q);
});
