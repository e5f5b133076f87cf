// Names that come from guests and API servers are printed, logged and written to files: a guest
// that reports "\x1b]0;pwned\x07" as its host name must not drive the user's terminal. Everything
// shown passes through printable(); names used as Node names must also be valid ones.

/** Longest name shown in full; longer ones are cut with a marker (a Node name is at most 253). */
export const MAX_SHOWN = 253;

/**
 * The text with every control, format and non-ASCII-printable character as an escape (\xNN,
 * \uNNNN), backslashes doubled, and cut at `max` characters: safe to print on a terminal.
 */
export function printable(text: unknown, max = MAX_SHOWN): string {
  const s = typeof text === 'string' ? text : String(text);
  let out = '';
  let n = 0;
  for (const ch of s) {
    if (n++ >= max) return `${out}...(${[...s].length - max} more)`;
    const c = ch.codePointAt(0) as number;
    if (ch === '\\') out += '\\\\';
    else if (c >= 0x20 && c < 0x7f) out += ch;
    else if (c < 0x100) out += `\\x${c.toString(16).padStart(2, '0')}`;
    else if (c <= 0xffff) out += `\\u${c.toString(16).padStart(4, '0')}`;
    else out += `\\u{${c.toString(16)}}`;
  }
  return out;
}

/** A Node name as the API server accepts one: a DNS-1123 subdomain (lower case, digits, '-', '.', at most 253). */
export function isNodeName(s: string): boolean {
  return s.length > 0 && s.length <= 253 && /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/.test(s);
}
