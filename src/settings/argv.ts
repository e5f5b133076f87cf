// One command-line parser for every table: long options (--name, --name=value, --name value,
// --no-name for booleans), short ones alone or in clusters (-vr, -mvirtio-serial, -m virtio-serial),
// qemu-ga's optional glued value (-F, -F/path), repeated list flags, positionals and `--`.
// Written by hand because node:util parseArgs cannot express an optional glued value or --no-NAME.
import { clip, convert } from './convert.js';
import { SettingError, type SettingSpec, type SettingValue } from './spec.js';

export interface ParsedArgs {
  /** Converted values by setting key, in the order the flags appeared (lists: all occurrences joined). */
  values: Map<string, SettingValue>;
  /** Action flags seen (--help, --config PATH): true, or the value they took. */
  actions: Map<string, string | true>;
  /** Arguments that are not options, before `--`. */
  positionals: string[];
  /** Everything after `--`. */
  rest: string[];
  sawTerminator: boolean;
}

export interface ParseOptions {
  /** Positionals are refused when false (the agent takes none). Default true. */
  positionals?: boolean;
  /**
   * Refuse a boolean given both ways on one command line (--kubesolo ... --no-kubesolo) instead of the
   * last one winning: where a file or the environment may also set it, the user's intent is unclear.
   */
  refuseContradictions?: boolean;
  /**
   * Refuse a non-list option given twice (--timeout 1 ... --timeout 2) instead of the last one winning:
   * on a long command line (or one built by a script) the second one is most often a mistake.
   */
  refuseRepeats?: boolean;
  /**
   * Refuse a value taken from the next argument when it starts with "-" (--file -q): the value was most
   * likely forgotten; a value that does start with "-" is given glued (--file=-q, -f-q), as node:util
   * parseArgs asks for. A lone "-" (stdin) is a value.
   */
  refuseDashValues?: boolean;
}

/** The flag name a spec is given by (its `flag`, else its key). */
export const flagOf = (spec: SettingSpec): string => spec.flag ?? spec.key;

/** Lookup tables for one settings table, built once. */
export class FlagIndex {
  readonly byFlag = new Map<string, SettingSpec>();
  readonly byShort = new Map<string, SettingSpec>();

  constructor(readonly table: readonly SettingSpec[]) {
    for (const s of table) {
      if (this.byFlag.has(flagOf(s))) throw new Error(`settings table: flag --${flagOf(s)} defined twice`);
      this.byFlag.set(flagOf(s), s);
      if (s.short) {
        if (s.short.length !== 1 || s.short === '-') throw new Error(`settings table: short flag "${s.short}" is not one character`);
        if (this.byShort.has(s.short)) throw new Error(`settings table: flag -${s.short} defined twice`);
        this.byShort.set(s.short, s);
      }
    }
    // --no-NAME negates the boolean NAME, so a flag of that name would be reachable two ways.
    for (const s of table) {
      const negated = this.byFlag.get(`no-${flagOf(s)}`);
      if (s.type === 'bool' && s.action === undefined && negated)
        throw new Error(`settings table: flag --no-${flagOf(s)} is defined and is also the negation of --${flagOf(s)}`);
    }
  }
}

/** Parses `argv` against the table in `index`; throws SettingError naming the offending argument. */
export function parseArgv(index: FlagIndex, argv: readonly string[], opts: ParseOptions = {}): ParsedArgs {
  const out: ParsedArgs = { values: new Map(), actions: new Map(), positionals: [], rest: [], sawTerminator: false };
  // Where each boolean was set, and to what: for refuseContradictions.
  const bools = new Map<string, { value: boolean; from: string }>();
  // Where each non-list setting was first given: for refuseRepeats.
  const seenAt = new Map<string, string>();
  const take = (spec: SettingSpec, raw: string | true, from: string) => {
    if (spec.action !== undefined) {
      out.actions.set(spec.action, raw);
      return;
    }
    const value = convert(spec, raw === true ? true : raw, from);
    if (spec.type === 'bool' && opts.refuseContradictions) {
      const seen = bools.get(spec.key);
      if (seen && seen.value !== value) throw new SettingError(`${seen.from} and ${from} contradict each other`);
      bools.set(spec.key, { value: value as boolean, from });
    }
    const before = out.values.get(spec.key);
    if (opts.refuseRepeats && spec.type !== 'list') {
      const first = seenAt.get(spec.key);
      if (first !== undefined) throw new SettingError(`${from} is given more than once (also as ${first}); give it once`);
      seenAt.set(spec.key, from);
    }
    // Repeated list flags add up (--arg a --arg b); any other repeated flag: the last one wins.
    if (spec.type === 'list' && Array.isArray(before)) out.values.set(spec.key, [...before, ...(value as string[])]);
    else {
      out.values.delete(spec.key);
      out.values.set(spec.key, value);
    }
  };
  const needValue = (flag: string, next: string | undefined, glued: string): string => {
    if (next === undefined) throw new SettingError(`option ${flag} needs a value`);
    if (opts.refuseDashValues && next.startsWith('-') && next !== '-')
      throw new SettingError(
        `option ${flag} needs a value, and the next argument ${clip(next)} looks like an option; to give a value that starts with "-", write ${glued}${next}`,
      );
    return next;
  };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] as string;
    if (arg === '--') {
      out.sawTerminator = true;
      out.rest = argv.slice(i + 1);
      break;
    }
    if (arg.startsWith('--')) {
      const eq = arg.indexOf('=');
      const name = eq > 0 ? arg.slice(2, eq) : arg.slice(2);
      const inline = eq > 0 ? arg.slice(eq + 1) : undefined;
      const plain = index.byFlag.get(name);
      const negated = !plain && name.startsWith('no-') ? index.byFlag.get(name.slice(3)) : undefined;
      if (negated && negated.type === 'bool' && negated.action === undefined && inline === undefined) {
        take(negated, 'false', `--${name}`);
        continue;
      }
      const spec = plain;
      if (!spec) throw new SettingError(`unknown option --${name.length > 80 ? `${name.slice(0, 80)}...` : name}`);
      const flag = `--${name}`;
      if (spec.type === 'bool') take(spec, inline ?? true, flag);
      else if (spec.optionalValue !== undefined) take(spec, inline ?? spec.optionalValue, flag);
      else take(spec, inline ?? needValue(flag, argv[++i], `${flag}=`), flag);
      continue;
    }
    if (!arg.startsWith('-') || arg === '-') {
      if (opts.positionals === false) throw new SettingError(`unexpected argument "${arg}"`);
      out.positionals.push(arg);
      continue;
    }
    // A cluster of short options: -vr, -mvirtio-serial, -m virtio-serial, -F/path.
    for (let j = 1; j < arg.length; j++) {
      const ch = arg[j] as string;
      const glued = arg.slice(j + 1);
      const spec = index.byShort.get(ch);
      if (!spec) throw new SettingError(`unknown option -${ch}`);
      // Errors name the long form too: "-m (--method): ..." says which setting was wrong.
      const from = `-${ch} (--${flagOf(spec)})`;
      if (spec.type === 'bool') {
        take(spec, true, from);
        continue;
      }
      if (spec.optionalValue !== undefined) take(spec, glued !== '' ? glued : spec.optionalValue, from);
      else take(spec, glued !== '' ? glued : needValue(from, argv[++i], `-${ch}`), from);
      break;
    }
  }
  return out;
}
