// The other sources besides the command line — environment variables and a config file's mapping —
// and the merge of all of them by precedence into one frozen object, with the table's defaults.
import { convert } from './convert.js';
import { camel, SettingError, type SettingSpec, type SettingValue } from './spec.js';

/** Raw values of one source, by setting key. */
export type Layer = ReadonlyMap<string, SettingValue>;

/** `fsfreeze-hook` with prefix GUESTLINK -> `GUESTLINK_FSFREEZE_HOOK`. */
export function envNameOf(prefix: string, key: string): string {
  return `${prefix}_${key.toUpperCase().replace(/-/g, '_')}`;
}

export interface EnvOptions {
  /** Variable prefix without the trailing underscore (GUESTLINK, GUESTLINK_CI). */
  prefix: string;
  /** Refuse PREFIX_* variables that name no setting (a typo then does not pass unnoticed). */
  refuseUnknown?: boolean;
  /** PREFIX_* names that are not settings but known (GUESTLINK_CONFIG). */
  knownExtra?: readonly string[];
}

/** The settings given as environment variables. */
export function readEnv(table: readonly SettingSpec[], env: Readonly<Record<string, string | undefined>>, opts: EnvOptions): Layer {
  const out = new Map<string, SettingValue>();
  const known = new Set<string>(opts.knownExtra ?? []);
  for (const spec of table) {
    if (spec.noEnv || spec.action !== undefined) continue;
    const name = envNameOf(opts.prefix, spec.key);
    known.add(name);
    const value = env[name];
    if (value !== undefined) out.set(spec.key, convert(spec, value, name));
  }
  if (opts.refuseUnknown) {
    for (const name of Object.keys(env)) {
      if (name.startsWith(`${opts.prefix}_`) && !known.has(name))
        throw new SettingError(`unknown environment variable ${name} (the settings are listed in --help)`);
    }
  }
  return out;
}

export interface MappingOptions {
  /** Names the file in errors. */
  source: string;
  /** Unknown keys: refused (default), or ignored (qemu-ga's [general] group holds keys guestlink does not use). */
  unknown?: 'refuse' | 'ignore';
  /** Only settings of this group are read from the mapping. */
  group?: string;
}

/** The settings in a config file's mapping (a key file's group, a YAML document's top level). `null` values are skipped. */
export function readMapping(table: readonly SettingSpec[], entries: Iterable<[string, unknown]>, opts: MappingOptions): Layer {
  const byName = new Map<string, SettingSpec>();
  for (const spec of table) {
    if (spec.action !== undefined || (opts.group !== undefined && spec.group !== opts.group)) continue;
    byName.set(spec.key, spec);
    for (const a of spec.aliases ?? []) byName.set(a, spec);
  }
  const out = new Map<string, SettingValue>();
  for (const [key, value] of entries) {
    const spec = byName.get(key);
    if (!spec) {
      if ((opts.unknown ?? 'refuse') === 'refuse')
        throw new SettingError(`${opts.source}: unknown key "${key}"${opts.group ? ` in [${opts.group}]` : ''}`);
      continue;
    }
    if (value === null || value === undefined) continue;
    out.set(spec.key, convert(spec, value, `${opts.source}: ${key}`));
  }
  return out;
}

/** The table's defaults under the layers, later layers winning; camelCase keys; unset settings absent. */
export function merge(table: readonly SettingSpec[], ...layers: Layer[]): Record<string, SettingValue> {
  const out: Record<string, SettingValue> = {};
  for (const spec of table) {
    if (spec.action !== undefined) continue;
    let value: SettingValue | undefined = spec.default;
    for (const layer of layers) if (layer.has(spec.key)) value = layer.get(spec.key);
    if (value === undefined && spec.type === 'bool') value = false;
    if (value === undefined && spec.type === 'list') value = [];
    if (value !== undefined) out[camel(spec.key)] = value;
  }
  return out;
}
