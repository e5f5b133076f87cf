// What people read about the settings, generated from the same table: --help lines, the Markdown
// table of docs/configuration.md (and the CLI's and cloud-init's), and the words shell completion offers.
import { flagOf } from './argv.js';
import { envNameOf } from './sources.js';
import type { SettingSpec } from './spec.js';

/** The default as a user would type it ('' when none, or a secret). */
export function defaultText(spec: SettingSpec): string {
  if (spec.default === undefined || spec.secret) return '';
  return Array.isArray(spec.default) ? spec.default.join(',') : String(spec.default);
}

/** `-m, --method VALUE`, `    --verbose`, `-F, --fsfreeze-hook[=PATH]`. */
export function flagText(spec: SettingSpec): string {
  const value = spec.type === 'bool' ? '' : spec.optionalValue !== undefined ? `[=${spec.arg ?? 'PATH'}]` : ` ${spec.arg ?? 'VALUE'}`;
  return `${spec.short ? `-${spec.short}, ` : '    '}--${flagOf(spec)}${value}`;
}

/** One --help line per setting: flag, help, choices and default. */
export function helpLines(table: readonly SettingSpec[], width = 44): string[] {
  return table.map((s) => {
    const def = defaultText(s);
    const choices = s.choices ? ` [${s.choices.join('|')}]` : '';
    return `  ${flagText(s).padEnd(width)} ${s.help}${choices}${def && !(Array.isArray(s.default) && s.default.length === 0) ? ` (default: ${def})` : ''}`;
  });
}

const cell = (s: string) => s.replace(/\|/g, '\\|');

export interface MarkdownOptions {
  /** Environment prefix (GUESTLINK); absent: no environment column. */
  envPrefix?: string;
  /** Add a column with each setting's group (the agent's key-file group). */
  groupColumn?: boolean;
}

/** The Markdown table of a settings table: key, [group], flag, [environment], default, meaning. */
export function markdownTable(table: readonly SettingSpec[], opts: MarkdownOptions = {}): string[] {
  const head = ['key', ...(opts.groupColumn ? ['group'] : []), 'flag', ...(opts.envPrefix ? ['environment'] : []), 'default', 'meaning'];
  const lines = [`| ${head.join(' | ')} |`, `|${head.map(() => '---').join('|')}|`];
  for (const s of table) {
    if (s.action !== undefined) continue;
    const flag = `${s.short ? `\`-${s.short}\`, ` : ''}\`--${flagOf(s)}\``;
    const bounds =
      s.min !== undefined && s.max !== undefined
        ? ` From ${s.min} to ${s.max}.`
        : s.min !== undefined
          ? ` At least ${s.min}.`
          : s.max !== undefined
            ? ` At most ${s.max}.`
            : '';
    const choices = s.choices ? ` One of: ${s.choices.join(', ')}.` : '';
    const row = [
      `\`${s.key}\``,
      ...(opts.groupColumn ? [s.group ?? ''] : []),
      flag,
      ...(opts.envPrefix ? [s.noEnv ? '' : `\`${envNameOf(opts.envPrefix, s.key)}\``] : []),
      cell(defaultText(s)),
      `${cell(s.help)}.${choices}${bounds}`,
    ];
    lines.push(`| ${row.join(' | ')} |`);
  }
  return lines;
}

/** What completion needs: every flag word, the flags that take a value, and the choices per flag. */
export function completionWords(table: readonly SettingSpec[]): {
  flags: string[];
  valued: string[];
  choices: [string, readonly string[]][];
} {
  const names = (s: SettingSpec) => [`--${flagOf(s)}`, ...(s.short ? [`-${s.short}`] : [])];
  return {
    flags: table.map((s) => `--${flagOf(s)}`),
    valued: table.filter((s) => s.type !== 'bool' && s.optionalValue === undefined).flatMap(names),
    choices: table.filter((s) => s.choices).map((s) => [names(s).join('|'), s.choices as readonly string[]]),
  };
}
