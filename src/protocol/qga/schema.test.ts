// Unit tests for the argument checker: qemu's error texts for missing, unexpected and mistyped members.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { QgaError } from './errors.js';
import { JsonFloat, type JsonObject } from './json-value.js';
import { checkArguments, type Members, memberName, type TypeTable, typeName } from './schema.js';

const TYPES: TypeTable = {
  Whence: { kind: 'enum', doc: '', values: ['set', 'cur', 'end'] },
  WhenceAlt: { kind: 'alternate', doc: '', branches: { int: 'int', str: 'Whence' } },
  Env: { kind: 'struct', doc: '', members: { name: 'str', '*value': 'str' } },
};

function desc(members: Members | undefined, args: JsonObject): string {
  try {
    checkArguments(TYPES, members, args);
  } catch (err) {
    assert.ok(err instanceof QgaError);
    assert.equal(err.errorClass, 'GenericError');
    return err.desc;
  }
  return 'ok';
}

describe('checkArguments', () => {
  it('accepts valid arguments and returns them', () => {
    const args = { id: 1 };
    assert.equal(checkArguments(TYPES, { id: 'int' }, args), args);
    assert.equal(desc(undefined, {}), 'ok');
    assert.equal(desc({ '*x': 'str' }, {}), 'ok');
  });

  it('missing and unexpected members', () => {
    assert.equal(desc({ id: 'int' }, {}), "Parameter 'id' is missing");
    assert.equal(desc(undefined, { foo: 42 }), "Parameter 'foo' is unexpected");
    assert.equal(desc({ id: 'int' }, { id: 1, x: 2 }), "Parameter 'x' is unexpected");
  });

  it('reports the first unexpected member in the order sent', () => {
    assert.equal(desc(undefined, { zeta: 1, alpha: 2 }), "Parameter 'zeta' is unexpected");
  });

  it('built-in types', () => {
    assert.equal(desc({ s: 'str' }, { s: 1 }), "Invalid parameter type for 's', expected: string");
    assert.equal(desc({ b: 'bool' }, { b: 'true' }), "Invalid parameter type for 'b', expected: boolean");
    assert.equal(desc({ n: 'number' }, { n: 'x' }), "Invalid parameter type for 'n', expected: number");
    assert.equal(desc({ n: 'number' }, { n: new JsonFloat(1.5) }), 'ok');
    assert.equal(desc({ n: 'number' }, { n: 2n ** 64n - 1n }), 'ok');
    assert.equal(desc({ a: 'any' }, { a: [null, { x: 1 }] }), 'ok');
  });

  it('int is int64: floats and values beyond int64 are refused', () => {
    assert.equal(desc({ i: 'int' }, { i: new JsonFloat(1.5) }), "Invalid parameter type for 'i', expected: integer");
    assert.equal(desc({ i: 'int' }, { i: 2n ** 63n }), "Invalid parameter type for 'i', expected: integer");
    assert.equal(desc({ i: 'int' }, { i: 2n ** 63n - 1n }), 'ok');
    assert.equal(desc({ i: 'int' }, { i: -(2n ** 63n) }), 'ok');
    assert.equal(desc({ i: 'int' }, { i: null }), "Invalid parameter type for 'i', expected: integer");
  });

  it('uint64 takes the whole unsigned range', () => {
    assert.equal(desc({ u: 'uint64' }, { u: 2n ** 64n - 1n }), 'ok');
    assert.equal(desc({ u: 'uint64' }, { u: 's' }), "Parameter 'u' expects uint64");
  });

  it('list items are named with their index', () => {
    assert.equal(desc({ arg: ['str'] }, { arg: ['a', 1] }), "Invalid parameter type for 'arg[1]', expected: string");
    assert.equal(desc({ arg: ['str'] }, { arg: 'a' }), "Invalid parameter type for 'arg', expected: array");
  });

  it('nested structs are named with a dotted path', () => {
    assert.equal(desc({ env: ['Env'] }, { env: [{ name: 'a' }, {}] }), "Parameter 'env[1].name' is missing");
    assert.equal(desc({ env: ['Env'] }, { env: [1] }), "Invalid parameter type for 'env[0]', expected: object");
    assert.equal(desc({ e: 'Env' }, { e: { name: 'a', x: 1 } }), "Parameter 'e.x' is unexpected");
  });

  it('enums', () => {
    assert.equal(desc({ w: 'Whence' }, { w: 'bogus' }), "Parameter 'w' does not accept value 'bogus'");
    assert.equal(desc({ w: 'Whence' }, { w: 1 }), "Invalid parameter type for 'w', expected: string");
  });

  it('alternates pick a branch by JSON type and name themselves when none fits', () => {
    assert.equal(desc({ w: 'WhenceAlt' }, { w: 2 }), 'ok');
    assert.equal(desc({ w: 'WhenceAlt' }, { w: 'end' }), 'ok');
    assert.equal(desc({ w: 'WhenceAlt' }, { w: 'bogus' }), "Parameter 'w' does not accept value 'bogus'");
    assert.equal(desc({ w: 'WhenceAlt' }, { w: new JsonFloat(1.5) }), "Invalid parameter type for 'w', expected: integer");
    assert.equal(desc({ w: 'WhenceAlt' }, { w: true }), "Invalid parameter type for 'w', expected: WhenceAlt");
    assert.equal(desc({ w: 'WhenceAlt' }, { w: [] }), "Invalid parameter type for 'w', expected: WhenceAlt");
  });

  it('an unknown type name is a schema bug, not a client error', () => {
    assert.throws(() => checkArguments(TYPES, { x: 'Nope' }, { x: 1 }), /schema bug/);
  });
});

describe('notation helpers', () => {
  it('memberName splits the optional marker', () => {
    assert.deepEqual(memberName('*mode'), { name: 'mode', optional: true });
    assert.deepEqual(memberName('id'), { name: 'id', optional: false });
  });
  it('typeName prints lists in brackets', () => {
    assert.equal(typeName(['str']), '[str]');
    assert.equal(typeName('int'), 'int');
  });
});
