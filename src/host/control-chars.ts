// The characters a guest must not get onto the user's terminal unescaped: C0 controls (ESC starts
// terminal escape sequences), DEL, C1 controls (U+009B is a one-character CSI for terminals that honour
// 8-bit controls), lone surrogates, line/paragraph separators and the bidirectional formatting
// characters (text that reads differently from what it is). One set, shared by the kubeconfig checks
// here and the CLI's output escaping.

/** Every character of the set; global, so use it with replace() or matchAll(). */
export const CONTROL_CHARS =
  /[\u0000-\u001f\u007f-\u009f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g;

/** True when `s` holds a character of the set. */
export function hasControlChars(s: string): boolean {
  CONTROL_CHARS.lastIndex = 0;
  const found = CONTROL_CHARS.test(s);
  CONTROL_CHARS.lastIndex = 0;
  return found;
}
