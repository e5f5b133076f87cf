// Guest text on the user's terminal: hostnames, OS names, interface names, error descriptions and the
// rest come from a guest that may be hostile, and an ESC or a C1 CSI in them would drive the terminal
// (retitle it, rewrite what is on screen, on some terminals answer back into the input). Tables, YAML,
// error and progress lines show such characters escaped; JSON shows them as \uXXXX escapes, which
// keeps the data exact (a JSON reader gets the same string back). The character set is shared with the
// kubeconfig checks (host/control-chars.ts).
import YAML from 'yaml';
import { CONTROL_CHARS } from '../host/control-chars.js';

const NAMED: Readonly<Record<string, string>> = { '\n': '\\n', '\r': '\\r', '\t': '\\t' };

function escapeOne(c: string): string {
  const named = NAMED[c];
  if (named) return named;
  const code = c.charCodeAt(0);
  return code <= 0x9f ? `\\x${code.toString(16).padStart(2, '0')}` : `\\u${code.toString(16).padStart(4, '0')}`;
}

/** `s` with every control character written as a visible escape (\x1b, \x9b, \n, \u202e, \ud800). */
export function terminalSafe(s: string): string {
  return s.replace(CONTROL_CHARS, escapeOne);
}

/** JSON text with the control characters JSON.stringify leaves raw (DEL, C1, bidi, U+2028/9) as \uXXXX: the same data. */
export function jsonSafe(json: string): string {
  return json.replace(CONTROL_CHARS, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

/**
 * YAML whose strings keep their exact value but show no raw control character: strings holding one are
 * double-quoted, where YAML has escapes for all of them (the yaml library escapes C0 and lone
 * surrogates there itself; DEL, C1 and the rest are escaped here, in those quoted scalars only).
 */
export function yamlSafe(data: unknown): string {
  const doc = new YAML.Document(data);
  YAML.visit(doc, {
    Scalar(_key, node) {
      if (typeof node.value !== 'string') return;
      CONTROL_CHARS.lastIndex = 0;
      if (CONTROL_CHARS.test(node.value)) node.type = 'QUOTE_DOUBLE';
      CONTROL_CHARS.lastIndex = 0;
    },
  });
  // Any control character still raw in the text (but the line breaks of the layout, and of folded
  // double-quoted lines) is inside one of those double-quoted scalars.
  return doc.toString().replace(CONTROL_CHARS, (c) => {
    if (c === '\n') return c;
    const code = c.charCodeAt(0);
    return code <= 0xff ? `\\x${code.toString(16).padStart(2, '0')}` : `\\u${code.toString(16).padStart(4, '0')}`;
  });
}
