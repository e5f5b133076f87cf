// qemu-ga's config file format (GLib key file): `[group]`, `key=value`, `#` comments, lists
// separated by ';' (qemu-ga's own -D prints ','; both are read). Small enough to own.

export type KeyFile = Map<string, Map<string, string>>;

/** Parses key-file text; throws with the line number on malformed lines. */
export function parseKeyFile(text: string, source = 'config'): KeyFile {
  const groups: KeyFile = new Map();
  let current: Map<string, string> | undefined;
  text.split(/\r?\n/).forEach((raw, i) => {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) return;
    const group = /^\[([^\]]+)\]$/.exec(line);
    if (group) {
      const name = group[1] as string;
      current = groups.get(name) ?? new Map();
      groups.set(name, current);
      return;
    }
    const eq = line.indexOf('=');
    // The line itself is not repeated: a config file may hold values nobody should see in an error.
    if (eq <= 0 || !current) throw new Error(`${source}:${i + 1}: expected "[group]" or "key=value"`);
    current.set(line.slice(0, eq).trim(), unescapeValue(line.slice(eq + 1).trim()));
  });
  return groups;
}

function unescapeValue(v: string): string {
  return v.replace(/\\([sntr\\])/g, (_m, c: string) => ({ s: ' ', n: '\n', t: '\t', r: '\r', '\\': '\\' })[c] as string);
}

/** A key-file list value: ';' or ',' separated, empty items dropped. */
export function splitList(v: string): string[] {
  return v
    .split(/[;,]/)
    .map((s) => s.trim())
    .filter((s) => s !== '');
}

/** Prints groups in key-file form. */
export function formatKeyFile(groups: [string, [string, string][]][]): string {
  return groups.map(([g, kv]) => `[${g}]\n${kv.map(([k, v]) => `${k}=${v}`).join('\n')}\n`).join('\n');
}
