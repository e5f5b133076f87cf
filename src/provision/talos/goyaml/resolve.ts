// go-yaml's implicit typing of plain scalars (go.yaml.in/yaml/v4 internal/libyaml/resolver.go): which
// tag a plain scalar resolves to and the value it carries. The canonical emitter quotes a string exactly
// when this says a plain scalar would not read back as a string, so every rule here moves schematic IDs.
import { type GoTime, parseGoTimestamp } from './timestamp.js';

export type ResolvedTag = 'str' | 'int' | 'float' | 'bool' | 'null' | 'timestamp' | 'merge';

/** A resolved plain scalar; ints keep their exact value as bigint (int64 or uint64 range). */
export type Resolved =
  | { tag: 'str'; value: string }
  | { tag: 'int'; value: bigint }
  | { tag: 'float'; value: number }
  | { tag: 'bool'; value: boolean }
  | { tag: 'null'; value: null }
  | { tag: 'timestamp'; value: GoTime }
  | { tag: 'merge'; value: '<<' };

const MAP: Record<string, Resolved> = {};
for (const s of ['true', 'True', 'TRUE']) MAP[s] = { tag: 'bool', value: true };
for (const s of ['false', 'False', 'FALSE']) MAP[s] = { tag: 'bool', value: false };
for (const s of ['', '~', 'null', 'Null', 'NULL']) MAP[s] = { tag: 'null', value: null };
for (const s of ['.nan', '.NaN', '.NAN']) MAP[s] = { tag: 'float', value: Number.NaN };
for (const s of ['.inf', '.Inf', '.INF', '+.inf', '+.Inf', '+.INF']) MAP[s] = { tag: 'float', value: Number.POSITIVE_INFINITY };
for (const s of ['-.inf', '-.Inf', '-.INF']) MAP[s] = { tag: 'float', value: Number.NEGATIVE_INFINITY };
for (const s of ['-0', '-0.0']) MAP[s] = { tag: 'float', value: -0 };
MAP['<<'] = { tag: 'merge', value: '<<' };

const INT64_MIN = -(1n << 63n);
const INT64_MAX = (1n << 63n) - 1n;
const UINT64_MAX = (1n << 64n) - 1n;
const YAML_STYLE_FLOAT = /^[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?$/;
// What Go's strconv.ParseFloat accepts after a leading '.' (decimal only; no underscores without a prefix).
const DOT_FLOAT = /^\.[0-9]+(?:[eE][-+]?[0-9]+)?$/;

/** strconv.ParseUint(s, 0, 64) without underscores: base prefixes 0x, 0o, 0b and a leading 0 for octal. */
function goParseUint(s: string): bigint | undefined {
  let digits = s;
  let base = 10;
  if (s.length > 1 && s[0] === '0') {
    const p = (s[1] as string).toLowerCase();
    if (p === 'x' || p === 'o' || p === 'b') {
      base = p === 'x' ? 16 : p === 'o' ? 8 : 2;
      digits = s.slice(2);
    } else {
      base = 8;
      digits = s.slice(1);
    }
  }
  const ok = base === 16 ? /^[0-9a-fA-F]+$/ : base === 8 ? /^[0-7]+$/ : base === 2 ? /^[01]+$/ : /^[0-9]+$/;
  if (!ok.test(digits)) return undefined;
  const prefix = base === 16 ? '0x' : base === 8 ? '0o' : base === 2 ? '0b' : '';
  const v = BigInt(prefix + digits);
  return v <= UINT64_MAX ? v : undefined;
}

/** strconv.ParseInt(s, 0, 64): an optional sign, then ParseUint's syntax; the result must fit int64. */
function goParseInt(s: string): bigint | undefined {
  const neg = s[0] === '-';
  const body = s[0] === '-' || s[0] === '+' ? s.slice(1) : s;
  if (body === '') return undefined;
  const u = goParseUint(body);
  if (u === undefined) return undefined;
  const v = neg ? -u : u;
  return v >= INT64_MIN && v <= INT64_MAX ? v : undefined;
}

/** strconv.ParseFloat on text the callers already checked is decimal; out of range is an error in Go. */
function goParseFloat(s: string): number | undefined {
  const v = Number(s);
  return Number.isFinite(v) ? v : undefined;
}

/** The tag and value a plain (unquoted, untagged) scalar resolves to, as go-yaml decides it. */
export function resolvePlain(s: string): Resolved {
  const c = s.charCodeAt(0);
  const hint =
    s === ''
      ? 'N'
      : c === 43 || c === 45
        ? 'S'
        : c >= 48 && c <= 57
          ? 'D'
          : 'yYnNtTfFoO~<'.includes(s[0] as string)
            ? 'M'
            : s[0] === '.'
              ? '.'
              : '';
  if (hint === '') return { tag: 'str', value: s };
  const mapped = MAP[s];
  if (mapped) return mapped;
  if (hint === '.') {
    if (DOT_FLOAT.test(s)) {
      const f = goParseFloat(s);
      if (f !== undefined) return { tag: 'float', value: f };
    }
  } else if (hint === 'D' || hint === 'S') {
    const t = parseGoTimestamp(s);
    if (t) return { tag: 'timestamp', value: t };
    const plain = s.replace(/_/g, '');
    const i = goParseInt(plain);
    if (i !== undefined) return { tag: 'int', value: i };
    const u = /^[+-]/.test(plain) ? undefined : goParseUint(plain);
    if (u !== undefined) return { tag: 'int', value: u };
    if (YAML_STYLE_FLOAT.test(plain)) {
      const f = goParseFloat(plain);
      if (f !== undefined) return { tag: 'float', value: f };
    }
  }
  return { tag: 'str', value: s };
}

/** YAML 1.1 booleans go-yaml still single-quotes on output so older parsers read them as strings. */
export function isOldBool(s: string): boolean {
  return /^(y|Y|yes|Yes|YES|on|On|ON|n|N|no|No|NO|off|Off|OFF)$/.test(s);
}

const BASE60 = /^[-+]?[0-9][0-9_]*(?::[0-5]?[0-9])+(?:\.[0-9_]*)?$/;

/** YAML 1.1 base-60 floats (1:20): go-yaml quotes them on output for the same reason. */
export function isBase60Float(s: string): boolean {
  return s !== '' && /^[-+0-9]/.test(s) && s.includes(':') && BASE60.test(s);
}
