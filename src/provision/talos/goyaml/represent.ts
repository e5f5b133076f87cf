// go-yaml's representer and desolver for the Go types a schematic holds (string, integers, bool, float,
// time, []T, map[string]any, structs with omitempty): which scalar style each value asks the emitter for,
// how numbers are spelled, and in which order map keys come out.
import type { YNode } from './emitter.js';
import { isBase60Float, isOldBool, resolvePlain } from './resolve.js';
import { formatRfc3339Nano, type GoTime } from './timestamp.js';

/** A Go string as yaml.Marshal represents it. */
export function goString(s: string): YNode {
  if (s.includes('\n')) return { kind: 'scalar', value: s, style: shouldUseLiteral(s) ? 'literal' : 'double' };
  if (isBase60Float(s) || isOldBool(s) || s === '<<') return { kind: 'scalar', value: s, style: 'single' };
  // The desolver: a string that would read back as something else is quoted (QuoteLegacy: double quotes).
  return { kind: 'scalar', value: s, style: resolvePlain(s).tag === 'str' ? 'plain' : 'double' };
}

// Go's unicode.IsSpace (JavaScript's \s also takes U+FEFF, which Go does not).
const GO_SPACE = /^[\t\n\v\f\r \u0085\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]$/u;

/** go-yaml's shouldUseLiteralStyle: at least two bytes and one character that is not white space. */
function shouldUseLiteral(s: string): boolean {
  return Buffer.byteLength(s, 'utf8') >= 2 && [...s].some((ch) => !GO_SPACE.test(ch));
}

/** int, uint and their sized kinds: decimal, plain. */
export function goInt(v: bigint | number): YNode {
  return { kind: 'scalar', value: BigInt(v).toString(), style: 'plain' };
}

export function goBool(v: boolean): YNode {
  return { kind: 'scalar', value: v ? 'true' : 'false', style: 'plain' };
}

export function goNull(): YNode {
  return { kind: 'scalar', value: 'null', style: 'plain' };
}

export function goTime(t: GoTime): YNode {
  return { kind: 'scalar', value: formatRfc3339Nano(t), style: 'plain' };
}

/** strconv.FormatFloat(f, 'g', -1, 64), with go-yaml's .inf/.nan spellings. */
export function formatGoFloat(f: number): string {
  if (Number.isNaN(f)) return '.nan';
  if (f === Number.POSITIVE_INFINITY) return '.inf';
  if (f === Number.NEGATIVE_INFINITY) return '-.inf';
  if (f === 0) return Object.is(f, -0) ? '-0' : '0';
  const [mant, expText] = Math.abs(f).toExponential().split('e') as [string, string];
  const digits = mant.replace('.', '');
  const exp = Number(expText);
  const sign = f < 0 ? '-' : '';
  // Shortest formatting uses %e when the exponent is < -4 or >= 6 (eprec is 6 for 'g' with precision -1).
  if (exp < -4 || exp >= 6) {
    const e = `${exp < 0 ? '-' : '+'}${String(Math.abs(exp)).padStart(2, '0')}`;
    return `${sign}${digits[0]}${digits.length > 1 ? `.${digits.slice(1)}` : ''}e${e}`;
  }
  if (exp < 0) return `${sign}0.${'0'.repeat(-exp - 1)}${digits}`;
  const intPart = digits.slice(0, exp + 1).padEnd(exp + 1, '0');
  const fracPart = digits.slice(exp + 1);
  return `${sign}${intPart}${fracPart ? `.${fracPart}` : ''}`;
}

export function goFloat(f: number): YNode {
  return { kind: 'scalar', value: formatGoFloat(f), style: 'plain' };
}

const isLetter = (c: string) => /\p{L}/u.test(c);
const isDigitRune = (c: string) => /\p{Nd}/u.test(c);
const digitValue = (c: string) => BigInt((c.codePointAt(0) as number) - 48);

/** go-yaml's keyList.Less for two string keys: letters before digits, digit runs compared as numbers. */
export function goKeyLess(a: string, b: string): boolean {
  const ar = [...a];
  const br = [...b];
  let digits = false;
  for (let i = 0; i < ar.length && i < br.length; i++) {
    const x = ar[i] as string;
    const y = br[i] as string;
    if (x === y) {
      digits = isDigitRune(x);
      continue;
    }
    const al = isLetter(x);
    const bl = isLetter(y);
    if (al && bl) return (x.codePointAt(0) as number) < (y.codePointAt(0) as number);
    if (al || bl) return digits ? al : bl;
    let an = 0n;
    let bn = 0n;
    if (x === '0' || y === '0') {
      for (let j = i - 1; j >= 0 && isDigitRune(ar[j] as string); j--) {
        if (ar[j] !== '0') {
          an = 1n;
          bn = 1n;
          break;
        }
      }
    }
    let ai = i;
    for (; ai < ar.length && isDigitRune(ar[ai] as string); ai++) an = BigInt.asIntN(64, an * 10n + digitValue(ar[ai] as string));
    let bi = i;
    for (; bi < br.length && isDigitRune(br[bi] as string); bi++) bn = BigInt.asIntN(64, bn * 10n + digitValue(br[bi] as string));
    if (an !== bn) return an < bn;
    if (ai !== bi) return ai < bi;
    return (x.codePointAt(0) as number) < (y.codePointAt(0) as number);
  }
  return ar.length < br.length;
}

/** Sorts map keys as go-yaml does (sort.Sort is not stable, but distinct keys never compare equal). */
export function goSortKeys(keys: readonly string[]): string[] {
  return [...keys].sort((a, b) => (goKeyLess(a, b) ? -1 : goKeyLess(b, a) ? 1 : 0));
}
