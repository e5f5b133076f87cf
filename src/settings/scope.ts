// Scopes: one table for a program with several verbs, each setting applying to every verb (no
// `verbs`) or to the verbs it names. The parser reads the whole table (an option may come before the
// verb); what a verb may be given, offered in completion and shown is the table seen from its scope.
import { flagOf } from './argv.js';
import { SettingError, type SettingSpec } from './spec.js';

/** The settings of `table` that apply in `scope`: those without `verbs` and those naming it. */
export function inScope<T extends SettingSpec>(table: readonly T[], scope: string): T[] {
  return table.filter((s) => s.verbs === undefined || s.verbs.includes(scope));
}

/** Refuses settings given (by key) that do not apply in `scope`, naming the first one's flag. */
export function checkScope(table: readonly SettingSpec[], given: Iterable<string>, scope: string): void {
  const byKey = new Map(table.map((s) => [s.key, s]));
  for (const key of given) {
    const spec = byKey.get(key);
    if (spec?.verbs && !spec.verbs.includes(scope)) throw new SettingError(`--${flagOf(spec)} does not apply to ${scope}`);
  }
}

/** The scopes a table names, in table order (what completion needs a case for). */
export function scopesOf(table: readonly SettingSpec[]): string[] {
  return [...new Set(table.flatMap((s) => s.verbs ?? []))];
}
