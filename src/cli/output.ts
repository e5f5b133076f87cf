// --output table|json|yaml: one renderer per format. JSON keeps 64-bit integers exact (guest times
// in nanoseconds); tables are plain columns like kubectl's. Guest text reaches the terminal through
// these, so each escapes control characters its own way (terminal-text.ts).
import { isObject, JsonFloat, type JsonValue } from '../protocol/qga/json-value.js';
import { jsonSafe, terminalSafe, yamlSafe } from './terminal-text.js';

export type OutputFormat = 'table' | 'json' | 'yaml';
export const OUTPUT_FORMATS: readonly OutputFormat[] = ['table', 'json', 'yaml'];

/** Plain JS data (JsonFloat unwrapped), for YAML and for tables. */
export function plain(v: unknown): unknown {
  if (v instanceof JsonFloat) return v.value;
  if (Array.isArray(v)) return v.map(plain);
  if (isObject(v))
    return Object.fromEntries(
      Object.entries(v)
        .filter(([, x]) => x !== undefined)
        .map(([k, x]) => [k, plain(x)]),
    );
  return v;
}

/** Indented JSON that prints bigint exactly (and control characters as \uXXXX, see terminal-text.ts). */
export function prettyJson(v: unknown, indent = ''): string {
  const p = plain(v);
  if (p === null || p === undefined) return 'null';
  if (typeof p === 'bigint') return p.toString();
  if (typeof p !== 'object') return jsonSafe(JSON.stringify(p));
  const inner = `${indent}  `;
  if (Array.isArray(p)) return p.length ? `[\n${p.map((x) => inner + prettyJson(x, inner)).join(',\n')}\n${indent}]` : '[]';
  const entries = Object.entries(p as Record<string, unknown>);
  return entries.length
    ? `{\n${entries.map(([k, x]) => `${inner}${jsonSafe(JSON.stringify(k))}: ${prettyJson(x, inner)}`).join(',\n')}\n${indent}}`
    : '{}';
}

/** Columns separated by three spaces, header first; cells with control characters show them escaped. */
export function table(header: string[], rows: (string | number | undefined)[][]): string {
  const cells = [header, ...rows.map((r) => r.map((c) => (c === undefined ? '' : terminalSafe(String(c)))))];
  const widths = header.map((_, i) => Math.max(...cells.map((r) => (r[i] ?? '').length)));
  return `${cells
    .map((r) =>
      r
        .map((c, i) => (i === r.length - 1 ? c : (c ?? '').padEnd(widths[i] ?? 0)))
        .join('   ')
        .trimEnd(),
    )
    .join('\n')}\n`;
}

/** Renders structured data in json or yaml; tables are the verb's own. */
export function renderData(format: 'json' | 'yaml', data: unknown): string {
  return format === 'json' ? `${prettyJson(data)}\n` : yamlSafe(plain(data));
}

export function bytes(n: unknown): string {
  if (typeof n !== 'number' && typeof n !== 'bigint') return '';
  let v = Number(n);
  for (const unit of ['B', 'KiB', 'MiB', 'GiB', 'TiB']) {
    if (v < 1024 || unit === 'TiB') return unit === 'B' ? `${v} B` : `${v.toFixed(1)} ${unit}`;
    v /= 1024;
  }
  return '';
}

export type { JsonValue };
