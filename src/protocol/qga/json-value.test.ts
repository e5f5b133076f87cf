// Unit tests for the JSON writer: qemu's compact style, its string escaping and %.17g floats.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { isInteger, isObject, JsonFloat, quoteString, writeJson } from './json-value.js';

describe('writeJson', () => {
  it('prints objects and lists with a space after ":" and ","', () => {
    assert.equal(writeJson({ a: 1, b: [1, 2], c: {}, d: [] }), '{"a": 1, "b": [1, 2], "c": {}, "d": []}');
  });

  it('leaves out undefined members, keeps null', () => {
    assert.equal(writeJson({ a: undefined, b: null }), '{"b": null}');
  });

  it('prints bigints exactly', () => {
    assert.equal(writeJson(18446744073709551615n), '18446744073709551615');
    assert.equal(writeJson(-9223372036854775808n), '-9223372036854775808');
  });

  it('prints floats as C "%.17g" (values checked against qemu-ga 7.2)', () => {
    const cases: [number, string][] = [
      [1.5, '1.5'],
      [0.1, '0.10000000000000001'],
      [1e-7, '9.9999999999999995e-08'],
      [1, '1'],
      [1e5, '100000'],
      [1e16, '10000000000000000'],
      [1e17, '1e+17'],
      [123456789, '123456789'],
      [0.0001, '0.0001'],
      [0.00001, '1.0000000000000001e-05'],
      [5e-324, '4.9406564584124654e-324'],
      [1.7976931348623157e308, '1.7976931348623157e+308'],
      [2 ** 64, '1.8446744073709552e+19'],
      [-0, '-0'],
      [Number.POSITIVE_INFINITY, 'inf'],
      [Number.NEGATIVE_INFINITY, '-inf'],
    ];
    for (const [n, s] of cases) assert.equal(writeJson(new JsonFloat(n)), s, String(n));
  });

  it('prints a plain non-integer number as a float', () => {
    assert.equal(writeJson(0.5), '0.5');
  });
});

describe('quoteString', () => {
  it('escapes like qemu: short forms, control bytes and non-ASCII as upper-case \\uXXXX', () => {
    assert.equal(quoteString('a"b\\c'), '"a\\"b\\\\c"');
    assert.equal(quoteString('\b\f\n\r\t'), '"\\b\\f\\n\\r\\t"');
    assert.equal(quoteString('\u0000\u001f\u007f'), '"\\u0000\\u001F\\u007F"');
    assert.equal(quoteString('é✓'), '"\\u00E9\\u2713"');
    assert.equal(quoteString('/'), '"/"');
  });

  it('writes astral characters as surrogate pairs and lone surrogates as U+FFFD', () => {
    assert.equal(quoteString('😀'), '"\\uD83D\\uDE00"');
    assert.equal(quoteString('\uD800x'), '"\\uFFFDx"');
    assert.equal(quoteString('\uDC00'), '"\\uFFFD"');
  });
});

describe('type guards', () => {
  it('isInteger: bigints and integral numbers', () => {
    assert.ok(isInteger(1));
    assert.ok(isInteger(2n ** 64n));
    assert.ok(!isInteger(1.5));
    assert.ok(!isInteger(new JsonFloat(1)));
  });

  it('isObject: plain objects only', () => {
    assert.ok(isObject({}));
    assert.ok(!isObject([]));
    assert.ok(!isObject(null));
    assert.ok(!isObject(new JsonFloat(1)));
  });
});
