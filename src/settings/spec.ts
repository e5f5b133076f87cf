// The one declarative description of a setting, shared by the agent, the host CLI and
// `guestlink cloud-init`: from one entry come the flag, the environment variable, the key in a
// config file, the type check, --help, the generated docs and shell completion.

/** How a value is typed. `list` collects repeated flags and splits strings (see `split`); `number` takes decimals (0.5 seconds). */
export type SettingType = 'string' | 'bool' | 'int' | 'number' | 'list';

/** Where a list given as one string is split: one item per line, at ',', at ',' and ';' (qemu-ga's key files), or never (KEY=VALUE items). */
export type ListSplit = 'lines' | ',' | ',;' | 'none';

export interface SettingSpec {
  /** kebab-case name: the flag (--key), the file key, and (upper snake case, prefixed) the environment variable. */
  readonly key: string;
  readonly type: SettingType;
  readonly help: string;
  /** One-letter flag. */
  readonly short?: string;
  /** The flag's name when it differs from `key` (a list's flag is singular: --package for `packages`). */
  readonly flag?: string;
  /** Other names the config file accepts for this key (qemu-ga <= 7.2 wrote `blacklist`). */
  readonly aliases?: readonly string[];
  /** The flag may stand alone and then takes this value; a value must be glued (-F/path, --fsfreeze-hook=/path). */
  readonly optionalValue?: string;
  readonly default?: string | boolean | number | readonly string[];
  readonly choices?: readonly string[];
  /** Bounds for `int` and `number`. */
  readonly min?: number;
  readonly max?: number;
  /** The value (each item, for lists) must be an absolute path. */
  readonly absolute?: boolean;
  /** The value (each item) must match; `text` says what is expected, for the error. */
  readonly pattern?: { readonly re: RegExp; readonly text: string };
  /** Further check on the typed value: the error's text, or undefined when fine. */
  readonly check?: (value: unknown) => string | undefined;
  /** A list item besides the checks above that is always accepted (`*` in --allow-exec). */
  readonly wildcard?: string;
  readonly split?: ListSplit;
  /** Where the consumer files it: the agent's key-file group, a CLI section. */
  readonly group?: string;
  /** The scopes (a CLI's verbs) it applies to; absent means every one. See inScope/checkScope. */
  readonly verbs?: readonly string[];
  /** The value's placeholder in help (SECONDS, PATH); default VALUE. */
  readonly arg?: string;
  /** Never echoed in errors, help defaults or dumps. */
  readonly secret?: boolean;
  /** cloud-init: the value names a file (or files) whose content is the setting. */
  readonly readsFile?: boolean;
  /** The value names a file or directory: shell completion offers file names for it. */
  readonly completeFiles?: boolean;
  /** No environment variable for this one (the CLI's --help, --version). */
  readonly noEnv?: boolean;
  /** Not a setting but a request (--help, --dump-conf): parsed as a flag, reported as an action. */
  readonly action?: string;
}

/** A typed value as it comes out of the engine. */
export type SettingValue = string | boolean | number | readonly string[];

/** `fsfreeze-hook` -> `fsfreezeHook`. */
export function camel(key: string): string {
  return key.replace(/-([a-z0-9])/g, (_m, c: string) => c.toUpperCase());
}

type Camel<S extends string> = S extends `${infer H}-${infer T}` ? `${H}${Capitalize<Camel<T>>}` : S;

type ValueOf<S> = S extends { type: 'bool' }
  ? boolean
  : S extends { type: 'int' | 'number' }
    ? number
    : S extends { type: 'list' }
      ? readonly string[]
      : S extends { choices: readonly (infer C)[] }
        ? C
        : string;

/** Settings that always have a value (a default, or a type that has a natural empty value). */
type Defined<S> = S extends { default: unknown } ? true : S extends { type: 'bool' | 'list' } ? true : false;

/** The resolved object a table yields: camelCase keys, typed values, optional where there is no default. */
export type SettingsOf<T extends readonly SettingSpec[]> = {
  readonly [S in Exclude<T[number], { action: string }> as Defined<S> extends true ? Camel<S['key']> : never]: ValueOf<S>;
} & {
  readonly [S in Exclude<T[number], { action: string }> as Defined<S> extends true ? never : Camel<S['key']>]?: ValueOf<S>;
};

/** Thrown for a value that is missing, malformed or out of range; the message names where it came from. */
export class SettingError extends Error {
  readonly code = 'SETTING';
}
