// os-release(5) parsing the way qemu-ga 7.2 does it: the file is read as a GLib key file (group
// "[os-release]" prepended, so a malformed line rejects the whole file), then each value is unquoted
// by qemu's own rules (ga_osrelease_replace_special in qga/commands-posix.c).

/** The os-release keys guest-get-osinfo reports, by QGA field. */
export const OS_RELEASE_KEYS = {
  id: 'ID',
  name: 'NAME',
  prettyName: 'PRETTY_NAME',
  version: 'VERSION',
  versionId: 'VERSION_ID',
  variant: 'VARIANT',
  variantId: 'VARIANT_ID',
} as const;

const SPACE = /^[ \t\n\v\f\r]*/;
const GROUP = /^\[([^\]]*)\][ \t]*$/;

/** Raw key-value pairs of the file, as g_key_file_get_value returns them; null when GLib would refuse the file. */
export function parseKeyFile(text: string): Map<string, string> | null {
  const values = new Map<string, string>();
  let inGroup = true;
  for (let line of text.split('\n')) {
    if (line.endsWith('\r')) line = line.slice(0, -1);
    line = line.slice(SPACE.exec(line)?.[0].length ?? 0);
    if (line === '' || line.startsWith('#')) continue;
    if (line.startsWith('[')) {
      const g = GROUP.exec(line);
      if (g) {
        inGroup = g[1] === 'os-release';
        continue;
      }
    }
    const eq = line.indexOf('=');
    if (eq <= 0) return null; // not a key-value pair, group or comment: GLib rejects the file
    const key = line.slice(0, eq).replace(/[ \t\n\v\f\r]+$/, '');
    if (!validKey(key)) return null;
    const rest = line.slice(eq + 1);
    const value = rest.slice(SPACE.exec(rest)?.[0].length ?? 0);
    if (inGroup) values.set(key, value);
  }
  return values;
}

function validKey(key: string): boolean {
  // g_key_file_is_key_name: no '=', '[' or ']' in the name, an optional "[locale]" suffix, no edge spaces.
  const m = /^([^=[\]]+)(\[[^\]]*\])?$/.exec(key);
  if (!m) return false;
  const name = m[1] as string;
  return !name.startsWith(' ') && !name.endsWith(' ');
}

/**
 * Unquotes one value like qemu-ga: unquoted values end at the first space or ';'; double-quoted
 * values end at the closing quote, with \$ \' \" \\ \` unescaped and other backslashes kept.
 * Single-quoted values are unquoted too, shell-style (qemu-ga 7.2 leaves the quote in: a bug).
 */
export function unquoteValue(value: string): string {
  const quote = value[0];
  if (quote === "'") {
    const end = value.indexOf("'", 1);
    return end < 0 ? value.slice(1) : value.slice(1, end);
  }
  if (quote !== '"') {
    let out = value;
    const sp = out.indexOf(' ');
    if (sp >= 0) out = out.slice(0, sp);
    const semi = out.indexOf(';');
    if (semi >= 0) out = out.slice(0, semi);
    return out;
  }
  let out = '';
  for (let i = 1; i < value.length; i++) {
    const c = value[i] as string;
    if (c === '\\') {
      const next = value[i + 1];
      if (next !== undefined && '$\'"\\`'.includes(next)) {
        out += next;
        i++;
        continue;
      }
      out += c;
      continue;
    }
    if (c === quote) return out;
    out += c;
  }
  // No closing quote: qemu copies in place without terminating, so the original tail's last char repeats.
  return out + value.slice(out.length);
}

/** The fields of guest-get-osinfo from an os-release file's bytes; null when qemu-ga would not use the file. */
export function parseOsRelease(bytes: Uint8Array): Partial<Record<keyof typeof OS_RELEASE_KEYS, string>> | null {
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    return null;
  }
  const kv = parseKeyFile(text);
  if (!kv) return null;
  const out: Partial<Record<keyof typeof OS_RELEASE_KEYS, string>> = {};
  for (const [field, key] of Object.entries(OS_RELEASE_KEYS) as [keyof typeof OS_RELEASE_KEYS, string][]) {
    const v = kv.get(key);
    if (v !== undefined) out[field] = unquoteValue(v);
  }
  return out;
}
