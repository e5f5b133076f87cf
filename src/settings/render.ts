// What people read about the settings, generated from the same table: --help lines, the Markdown
// tables of docs/configuration.md, docs/cli.md and docs/cloud-init.md, and the words shell completion offers.
import { flagOf } from './argv.js';
import { envNameOf } from './sources.js';
import type { SettingSpec } from './spec.js';

/** The default as a user would type it ('' when none, an empty list, or a secret). */
export function defaultText(spec: SettingSpec): string {
  if (spec.default === undefined || spec.secret) return '';
  return Array.isArray(spec.default) ? spec.default.join(',') : String(spec.default);
}

/** `-m, --method VALUE`, `    --verbose`, `-F, --fsfreeze-hook[=PATH]`, `    --package NAME...` (a list: repeatable). */
export function flagText(spec: SettingSpec): string {
  const arg = spec.arg ?? 'VALUE';
  const value =
    spec.type === 'bool'
      ? ''
      : spec.optionalValue !== undefined
        ? `[=${spec.arg ?? 'PATH'}]`
        : ` ${arg}${spec.type === 'list' ? '...' : ''}`;
  return `${spec.short ? `-${spec.short}, ` : '    '}--${flagOf(spec)}${value}`;
}

/** How helpLines lays out --help (column, scope label, environment and file key lines). */
export interface HelpOptions {
  /** Column of the help text (default 44). */
  width?: number;
  /** Shown after the help of a setting that applies to some scopes only, e.g. `[kubeconfig, cp]`. */
  scopeLabel?: (verbs: readonly string[]) => string;
  /** Add a line naming the environment variable (with this prefix) and the file key of each setting. */
  envPrefix?: string;
  fileKeys?: boolean;
}

/** One --help line per setting: flag, help, choices, default (and scope, environment variable, file key when asked). */
export function helpLines(table: readonly SettingSpec[], opts: HelpOptions | number = {}): string[] {
  const o = typeof opts === 'number' ? { width: opts } : opts;
  const width = o.width ?? 44;
  return table.flatMap((s) => {
    const def = defaultText(s);
    const choices = s.choices ? ` [${s.choices.join('|')}]` : '';
    const scope = s.verbs && o.scopeLabel ? ` ${o.scopeLabel(s.verbs)}` : '';
    const line = `  ${flagText(s).padEnd(width)} ${s.help}${choices}${def ? ` (default: ${def})` : ''}${scope}`;
    const where = [
      ...(o.envPrefix && !s.noEnv && s.action === undefined ? [`env ${envNameOf(o.envPrefix, s.key)}`] : []),
      ...(o.fileKeys && s.action === undefined ? [`file key ${s.key}`] : []),
    ];
    return where.length ? [line, `  ${''.padEnd(width)} ${where.join(', ')}`] : [line];
  });
}

const cell = (s: string) => s.replace(/\|/g, '\\|');

/** A column of markdownTable. */
export type Column = 'key' | 'group' | 'flag' | 'env' | 'default' | 'scope' | 'meaning';

/** Which columns markdownTable writes, and how. */
export interface MarkdownOptions {
  /** Environment prefix (GUESTLINK); absent: no environment column (unless `columns` names it). */
  envPrefix?: string;
  /** Add a column with each setting's group (the agent's key-file group). */
  groupColumn?: boolean;
  /** The columns, in order; default key, [group], flag, [environment], default, meaning. */
  columns?: readonly Column[];
  /** Header texts instead of the column names (key: 'file key'). */
  headers?: Partial<Record<Column, string>>;
  /** The scope cell of a setting without `verbs` (default 'all'). */
  everyScope?: string;
  /** List the action flags (--help, --version) too; they are left out by default (they are no settings). */
  actions?: boolean;
  /**
   * Show `--no-NAME` beside each boolean (default true: where a file or the environment can switch it
   * on, the negation is how a command line switches it off; a CLI says it once in its prose instead).
   */
  negations?: boolean;
}

/** The flag cell: both forms, `--no-NAME` for a boolean (when asked), "(repeatable)" for a list. */
function flagCell(s: SettingSpec, negations: boolean): string {
  const forms = `${s.short ? `\`-${s.short}\`, ` : ''}\`--${flagOf(s)}\``;
  if (s.type === 'bool' && s.action === undefined && negations) return `${forms} / \`--no-${flagOf(s)}\``;
  return s.type === 'list' ? `${forms} (repeatable)` : forms;
}

function meaning(s: SettingSpec): string {
  const bounds =
    s.min !== undefined && s.max !== undefined
      ? ` From ${s.min} to ${s.max}.`
      : s.min !== undefined
        ? ` At least ${s.min}.`
        : s.max !== undefined
          ? ` At most ${s.max}.`
          : '';
  const choices = s.choices ? ` One of: ${s.choices.join(', ')}.` : '';
  return `${cell(s.help)}.${choices}${bounds}`;
}

/** The Markdown table of a settings table, one row per setting (see MarkdownOptions for the columns). */
export function markdownTable(table: readonly SettingSpec[], opts: MarkdownOptions = {}): string[] {
  const columns: readonly Column[] = opts.columns ?? [
    'key',
    ...(opts.groupColumn ? (['group'] as const) : []),
    'flag',
    ...(opts.envPrefix ? (['env'] as const) : []),
    'default',
    'meaning',
  ];
  const names: Record<Column, string> = {
    key: 'key',
    group: 'group',
    flag: 'flag',
    env: 'environment',
    default: 'default',
    scope: 'applies to',
    meaning: 'meaning',
    ...opts.headers,
  };
  const cellOf = (s: SettingSpec, c: Column): string => {
    switch (c) {
      case 'key':
        return `\`${s.key}\``;
      case 'group':
        return s.group ?? '';
      case 'flag':
        return flagCell(s, opts.negations ?? true);
      case 'env':
        return opts.envPrefix && !s.noEnv && s.action === undefined ? `\`${envNameOf(opts.envPrefix, s.key)}\`` : '';
      case 'default':
        return cell(defaultText(s));
      case 'scope':
        return s.verbs ? s.verbs.join(', ') : (opts.everyScope ?? 'all');
      default:
        return meaning(s);
    }
  };
  const lines = [`| ${columns.map((c) => names[c]).join(' | ')} |`, `|${columns.map(() => '---').join('|')}|`];
  for (const s of table) {
    if (s.action !== undefined && !opts.actions) continue;
    lines.push(`| ${columns.map((c) => cellOf(s, c)).join(' | ')} |`);
  }
  return lines;
}

/** What completion needs: every flag word, the flags that take a value, those whose value is a file, and the choices per flag. */
export function completionWords(table: readonly SettingSpec[]): {
  flags: string[];
  valued: string[];
  files: string[];
  choices: [string, readonly string[]][];
} {
  const names = (s: SettingSpec) => [`--${flagOf(s)}`, ...(s.short ? [`-${s.short}`] : [])];
  return {
    flags: table.map((s) => `--${flagOf(s)}`),
    valued: table.filter((s) => s.type !== 'bool' && s.optionalValue === undefined).flatMap(names),
    files: table.filter((s) => s.completeFiles).flatMap(names),
    choices: table.filter((s) => s.choices).map((s) => [names(s).join('|'), s.choices as readonly string[]]),
  };
}
