// The environment guest-exec gives a program: never the agent's own, never the request's as sent.
// A program gets PATH (the agent's --exec-path) and LANG=C, plus the request's variables whose names
// are listed in --allow-exec-env. A variable that changes how programs load code or run (the dynamic
// loader's LD_*, glibc's other "unsecure" variables, shells' and language runtimes' start-up hooks) is
// refused even when listed: with one of them, a file written over guest-file-write turns any allowed
// program into arbitrary code running as root.
//
// Refuse, not drop: a request with a variable that may not pass gets a GenericError naming it and no
// program starts. Dropping it silently would run the program in another environment than the caller
// asked for (a KUBECONFIG quietly missing makes kubectl talk to another cluster), with no sign why.
import { genericError } from '../protocol/qga/errors.js';

/**
 * Never passed, whatever the configuration says. glibc's UNSECURE_ENVVARS (sysdeps/generic/unsecvars.h:
 * what ld.so strips for set-uid programs) and musl's loader variables; shells' start-up hooks; runtimes'
 * "load this code first" variables; variables that name a program to run or a module to load.
 */
export const NEVER_ALLOWED_ENV: ReadonlySet<string> = new Set([
  // glibc's list besides LD_* (prefix below)
  'GCONV_PATH',
  'GETCONF_DIR',
  'GLIBC_TUNABLES',
  'HOSTALIASES',
  'LOCALDOMAIN',
  'LOCPATH',
  'NIS_PATH',
  'NLSPATH',
  'RESOLV_HOST_CONF',
  'RES_OPTIONS',
  'TMPDIR',
  'TZDIR',
  // shells: files sourced, code run, word splitting changed
  'BASH_ENV',
  'ENV',
  'IFS',
  'SHELLOPTS',
  'BASHOPTS',
  'PS4',
  'PROMPT_COMMAND',
  'CDPATH',
  'GLOBIGNORE',
  'BASH_XTRACEFD',
  // runtimes that load code named by the environment
  'JAVA_TOOL_OPTIONS',
  '_JAVA_OPTIONS',
  'JDK_JAVA_OPTIONS',
  'CLASSPATH',
  'TCLLIBPATH',
  'OPENSSL_CONF',
  'OPENSSL_ENGINES',
  'OPENSSL_MODULES',
  'GTK_MODULES',
  'GIO_MODULE_DIR',
  'GIO_EXTRA_MODULES',
  'GST_PLUGIN_PATH',
  'QT_PLUGIN_PATH',
  'SSLKEYLOGFILE',
  // programs run on the program's behalf
  'LESSOPEN',
  'LESSCLOSE',
  'PAGER',
  'EDITOR',
  'VISUAL',
  'BROWSER',
  'SSH_ASKPASS',
  'SUDO_ASKPASS',
]);

/** Whole families: LD_* (ld.so, musl), DYLD_*, MALLOC_* (MALLOC_TRACE writes a file), exported bash functions, and the runtimes' own. */
export const NEVER_ALLOWED_ENV_PREFIXES: readonly string[] = [
  'LD_',
  'DYLD_',
  'MALLOC_',
  'BASH_FUNC_',
  'PYTHON',
  'PERL',
  'RUBY',
  'LUA_',
  'NODE_',
  'GIT_',
];

/** True for a variable no configuration may let through. */
export function neverAllowedEnv(name: string): boolean {
  return NEVER_ALLOWED_ENV.has(name) || NEVER_ALLOWED_ENV_PREFIXES.some((p) => name.startsWith(p));
}

/** A name a POSIX shell could export: what --allow-exec-env accepts. */
export const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** What the fixed part of every program's environment is made from. */
export interface ExecEnvSettings {
  /** PATH given to every program (the agent's --exec-path). */
  execSearchPath: string;
  /** Names the request may set (--allow-exec-env); never-allowed names in it are ignored. */
  allowExecEnv: readonly string[];
}

/**
 * The environment for one guest-exec: PATH and LANG=C, then the request's KEY=VALUE entries, each of
 * which must be listed and not never-allowed (the first of a repeated name wins, as getenv() finds it).
 * Throws a GenericError naming the first variable that may not pass. Values never appear in errors.
 */
export function buildExecEnv(entries: readonly string[] | undefined, settings: ExecEnvSettings): Record<string, string> {
  const env: Record<string, string> = { PATH: settings.execSearchPath, LANG: 'C' };
  const seen = new Set<string>();
  for (const [i, entry] of (entries ?? []).entries()) {
    const eq = entry.indexOf('=');
    const name = entry.slice(0, Math.max(eq, 0));
    // Named by position: an entry without '=' may be a value sent by mistake, and errors reach the audit log.
    if (eq <= 0 || !ENV_NAME.test(name))
      throw genericError(`guest-exec: env[${i}] is not NAME=VALUE with a shell variable name`, 'BAD_ARGUMENT');
    if (neverAllowedEnv(name))
      throw genericError(
        `guest-exec: environment variable '${name}' is refused: it changes how programs load code or run, and no setting allows it`,
        'NOT_ALLOWED',
      );
    if (!settings.allowExecEnv.includes(name))
      throw genericError(`guest-exec: environment variable '${name}' is not allowed (allow it with --allow-exec-env)`, 'NOT_ALLOWED');
    if (seen.has(name)) continue;
    seen.add(name);
    env[name] = entry.slice(eq + 1);
  }
  return env;
}
