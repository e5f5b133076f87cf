// --allow-exec entries: which programs guest-exec may start, and optionally with which arguments.
//
//   /usr/bin/uptime                      the program, with any arguments (arguments are free)
//   /usr/bin/cat /etc/kubesolo/admin.kubeconfig
//                                        exactly these arguments, nothing more
//   /usr/sbin/ip -j addr ...             these first, then any further arguments ("..." as the last word)
//   *                                    any program, any arguments (a warning at start-up)
//
// Words are separated by spaces; inside a word, %XX is the byte XX (percent-encoding), so an argument
// with a space is written %20, a comma %2C, a semicolon %3B (the list itself is split on , and ;), a
// percent sign %25, and an argument that is literally "..." as %2E... This survives every layer an
// entry passes through (shell, key file, environment variable, a DaemonSet's YAML) without quoting.
// A program is matched by its resolved absolute path; arguments are compared exactly, byte for byte.
import path from 'node:path';

/** One parsed --allow-exec entry. */
export interface ExecRule {
  /** Absolute program path, or '*' for any. */
  program: string;
  /** Pinned arguments; absent: arguments are free. */
  args?: readonly string[];
  /** With pinned arguments: further arguments after them are allowed (the entry ended in "..."). */
  moreArgs: boolean;
}

/** Why an entry cannot be used; the config loader shows it. */
export class ExecRuleError extends Error {
  readonly code = 'BAD_EXEC_RULE';
}

function decodeWord(word: string, entry: string): string {
  if (/%(?![0-9A-Fa-f]{2})/.test(word)) throw new ExecRuleError(`"${entry}": a % must start a %XX escape (write %25 for a % sign)`);
  try {
    return decodeURIComponent(word);
  } catch {
    throw new ExecRuleError(`"${entry}": %-escapes must spell UTF-8`);
  }
}

/** Parses one entry; throws ExecRuleError saying what is wrong. */
export function parseExecRule(entry: string): ExecRule {
  const words = entry
    .trim()
    .split(/\s+/)
    .filter((w) => w !== '');
  const first = words.shift();
  if (first === undefined) throw new ExecRuleError('an empty entry');
  if (first === '*') {
    if (words.length > 0) throw new ExecRuleError(`"${entry}": "*" (any program) cannot have pinned arguments`);
    return { program: '*', moreArgs: true };
  }
  const program = decodeWord(first, entry);
  if (!path.isAbsolute(program)) throw new ExecRuleError(`"${entry}": the program must be an absolute path`);
  if (words.length === 0) return { program: path.resolve(program), moreArgs: true };
  const moreArgs = words.at(-1) === '...';
  if (moreArgs) words.pop();
  return { program: path.resolve(program), args: words.map((w) => decodeWord(w, entry)), moreArgs };
}

/** The verdict on one request: allowed, the program is on no entry, or only its arguments are not. */
export type ExecVerdict = 'allowed' | 'program' | 'arguments';

/** Checks a resolved program and its arguments against the rules. */
export function checkExec(rules: readonly ExecRule[], resolved: string, args: readonly string[]): ExecVerdict {
  let programListed = false;
  for (const rule of rules) {
    if (rule.program !== '*' && rule.program !== resolved) continue;
    programListed = true;
    if (rule.args === undefined) return 'allowed';
    const pinned = rule.args;
    if (args.length < pinned.length || (!rule.moreArgs && args.length !== pinned.length)) continue;
    if (pinned.every((a, i) => args[i] === a)) return 'allowed';
  }
  return programListed ? 'arguments' : 'program';
}
