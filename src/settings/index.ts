// The settings engine: one declarative table per program (agent, host CLI, cloud-init) from which
// the parsers, validation, --help, the generated docs and completion all derive.
import { type Layer, merge } from './sources.js';
import type { SettingSpec, SettingsOf } from './spec.js';

export { FlagIndex, flagOf, type ParsedArgs, type ParseOptions, parseArgv } from './argv.js';
export { clip, convert, splitList } from './convert.js';
export {
  type Column,
  completionWords,
  defaultText,
  flagText,
  type HelpOptions,
  helpLines,
  type MarkdownOptions,
  markdownTable,
} from './render.js';
export { checkScope, inScope, scopesOf } from './scope.js';
export { envNameOf, type Layer, merge, readEnv, readMapping } from './sources.js';
export { camel, SettingError, type SettingSpec, type SettingsOf, type SettingValue } from './spec.js';

/** The table's defaults under the layers (later wins), typed from the table and frozen. */
export function resolve<T extends readonly SettingSpec[]>(table: T, ...layers: Layer[]): SettingsOf<T> {
  return Object.freeze(merge(table, ...layers)) as unknown as SettingsOf<T>;
}
