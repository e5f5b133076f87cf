// A small QAPI: the type notation of qemu's qga/qapi-schema.json and the argument checker that
// reports errors in qemu's own words. Written by hand because the differential tests compare
// error texts byte for byte with qemu-ga ("Invalid parameter type for 'arg[0]', expected: string"),
// and QAPI's alternates and int64 rules have no direct counterpart in a generic validator.
import { errors } from './errors.js';
import { isInteger, isJsonString, isObject, JsonFloat, type JsonObject, type JsonValue } from './json-value.js';

/** Built-in QAPI types. */
export type BuiltinType = 'str' | 'int' | 'uint64' | 'number' | 'bool' | 'any';
/** A type reference: a built-in, a named type, or `[T]` for a list of T. */
export type TypeRef = string | readonly [string];
/** Members in QAPI notation: a leading '*' marks an optional member. */
export type Members = Readonly<Record<string, TypeRef>>;

export interface StructType {
  kind: 'struct';
  members: Members;
  doc: string;
}
export interface EnumType {
  kind: 'enum';
  values: readonly string[];
  doc: string;
}
/** An alternate picks its branch by the JSON type of the value, as QAPI does. */
export interface AlternateType {
  kind: 'alternate';
  branches: Readonly<Partial<Record<'int' | 'str' | 'bool', string>>>;
  doc: string;
}
export type NamedType = StructType | EnumType | AlternateType;
export type TypeTable = Readonly<Record<string, NamedType>>;

const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;
const UINT64_MAX = 2n ** 64n - 1n;

/** Splits QAPI member notation into name and optionality. */
export function memberName(key: string): { name: string; optional: boolean } {
  return key.startsWith('*') ? { name: key.slice(1), optional: true } : { name: key, optional: false };
}

/** Checks `args` against `members`; throws the QgaError qemu-ga would send. Returns the args. */
export function checkArguments(types: TypeTable, members: Members | undefined, args: JsonObject): JsonObject {
  checkStruct(types, members ?? NO_MEMBERS, args, '');
  return args;
}

const NO_MEMBERS: Members = Object.freeze({});

/**
 * Checks a value against a type, as arguments are checked (missing and unexpected members included);
 * throws the QgaError naming the first mismatch. Tests hold every handler's reply to its `returns`.
 */
export function checkValueType(types: TypeTable, type: TypeRef, value: JsonValue, path = 'return'): void {
  checkValue(types, type, value, path);
}

/** A struct's members split once (name, optionality, type), not on every request. */
interface CompiledMembers {
  list: { name: string; optional: boolean; type: TypeRef }[];
  names: ReadonlySet<string>;
}
const compiled = new WeakMap<Members, CompiledMembers>();

function compile(members: Members): CompiledMembers {
  let c = compiled.get(members);
  if (!c) {
    const list = Object.keys(members).map((key) => ({ ...memberName(key), type: members[key] as TypeRef }));
    c = { list, names: new Set(list.map((m) => m.name)) };
    compiled.set(members, c);
  }
  return c;
}

function join(prefix: string, name: string): string {
  return prefix ? `${prefix}.${name}` : name;
}

// qemu's order of complaints: members in schema order (missing or wrong), then the first unexpected key as sent.
function checkStruct(types: TypeTable, members: Members, obj: JsonObject, prefix: string): void {
  const { list, names } = compile(members);
  for (let i = 0; i < list.length; i++) {
    const { name, optional, type } = list[i] as CompiledMembers['list'][number];
    const value = obj[name];
    if (value === undefined) {
      if (optional) continue;
      throw errors.paramMissing(join(prefix, name));
    }
    checkValue(types, type, value, join(prefix, name));
  }
  // for-in, not Object.keys: no array per request (the same keys in the same order; a JSON object's
  // prototype has no enumerable member, json-value.ts).
  for (const key in obj) {
    if (!names.has(key)) throw errors.paramUnexpected(join(prefix, key));
  }
}

function checkValue(types: TypeTable, type: TypeRef, value: JsonValue, path: string): void {
  if (typeof type !== 'string') {
    if (!Array.isArray(value)) throw errors.paramType(path, 'array');
    for (let i = 0; i < value.length; i++) checkValue(types, type[0], value[i] as JsonValue, `${path}[${i}]`);
    return;
  }
  switch (type) {
    case 'any':
      return;
    case 'str':
      // Bulk data (json-bulk.ts) is a string kept as bytes: only the reader makes it, for bulk arguments.
      if (!isJsonString(value)) throw errors.paramType(path, 'string');
      return;
    case 'bool':
      if (typeof value !== 'boolean') throw errors.paramType(path, 'boolean');
      return;
    case 'number':
      if (!(typeof value === 'number' || typeof value === 'bigint' || value instanceof JsonFloat)) throw errors.paramType(path, 'number');
      return;
    case 'int':
      if (!isInteger(value) || (typeof value === 'bigint' && (value < INT64_MIN || value > INT64_MAX)))
        throw errors.paramType(path, 'integer');
      return;
    case 'uint64':
      if (!isInteger(value) || (typeof value === 'bigint' && (value < INT64_MIN || value > UINT64_MAX)))
        throw errors.paramValue(path, 'uint64');
      return;
  }
  const named = types[type];
  if (!named) throw new Error(`schema bug: unknown type ${type}`);
  switch (named.kind) {
    case 'enum':
      if (typeof value !== 'string') throw errors.paramType(path, 'string');
      if (!named.values.includes(value)) throw errors.enumValue(path, value);
      return;
    case 'struct':
      if (!isObject(value)) throw errors.paramType(path, 'object');
      checkStruct(types, named.members, value, path);
      return;
    case 'alternate': {
      const branch =
        typeof value === 'boolean'
          ? named.branches.bool
          : typeof value === 'string'
            ? named.branches.str
            : typeof value === 'number' || typeof value === 'bigint' || value instanceof JsonFloat
              ? named.branches.int
              : undefined;
      // qemu names the alternate itself when no branch fits the value's JSON type.
      if (branch === undefined) throw errors.paramType(path, type);
      checkValue(types, branch, value, path);
      return;
    }
  }
}

/** A readable type name for docs and help: `[GuestFoo]`, `int`, ... */
export function typeName(t: TypeRef): string {
  return typeof t === 'string' ? t : `[${t[0]}]`;
}
