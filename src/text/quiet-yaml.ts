// YAML from files that hold credentials (talosconfig, kubeconfig), parsed so that no error and no
// warning ever quotes the file: the yaml package's own errors carry the offending line ("prettyErrors")
// and its warnings go to process.emitWarning, so a bad file would print a private key or a token into
// a start-up error or a log. Errors here say where (line, column) and what kind (the yaml package's
// stable error code), never what.
import { LineCounter, parseDocument } from 'yaml';

/** A syntax error in a YAML file, located but not quoted. */
export class QuietYamlError extends Error {
  readonly code = 'YAML_SYNTAX';

  constructor(
    /** The yaml package's error code (BAD_INDENT, MISSING_CHAR, DUPLICATE_KEY, ...). */
    readonly kind: string,
    readonly line: number | undefined,
    readonly column: number | undefined,
  ) {
    super(
      `${kind}${line === undefined ? '' : ` at line ${line}, column ${column}`} (the contents are not shown: the file may hold credentials)`,
    );
    this.name = 'QuietYamlError';
  }
}

/** Parses `text` to plain data; throws QuietYamlError (never quoting `text`) on the first syntax error. */
export function parseYamlQuietly(text: string): unknown {
  const lines = new LineCounter();
  const doc = parseDocument(text, { prettyErrors: false, lineCounter: lines, logLevel: 'silent' });
  const first = doc.errors[0];
  if (first) {
    const at = first.pos[0] >= 0 ? lines.linePos(first.pos[0]) : undefined;
    throw new QuietYamlError(first.code, at?.line, at?.col);
  }
  return doc.toJS();
}
