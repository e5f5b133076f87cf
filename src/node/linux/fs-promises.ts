// node:fs/promises for the Linux back end, imported when a request first needs it. The back end is made at
// every start, before the first reply, and node:fs/promises brings Node's readline, REPL history, directory
// and watcher modules with it: measured on Node 24, +1.1 MB RSS and ~2 ms at every start for functions
// that only guest-get-fsinfo, guest-get-disks, the freeze/trim ioctls and the account commands call
// (docs/benchmarks.md, Round 4). The agent's own state files use node:fs's callbacks (agent/state.ts).
type FsPromises = typeof import('node:fs/promises');

let loading: Promise<FsPromises> | undefined;

/**
 * node:fs/promises, imported at the first call and kept: in the single executable's CommonJS chunks each
 * import() becomes a require() whose module is copied into a new namespace object (esbuild's __toESM), so
 * one promise serves every later call instead of a copy per request.
 */
export function fsPromises(): Promise<FsPromises> {
  loading ??= import('node:fs/promises');
  return loading;
}
