// The programs the agent starts (guest-exec's, the fsfreeze hook) go through runners that load their
// implementation on first use: node:child_process and the runners' code are not needed to answer the
// first guest-sync, and most agents never run a program (guest-exec is off unless allow-listed, the hook
// unless configured). Measured in the single executable (docs/benchmarks.md): node:child_process alone
// costs ~3 ms and ~2.7 MB RSS to load. The first guest-exec or freeze pays it once instead.
import type { FreezeHookRunner, ProcessRunner } from '../node/interfaces.js';

/** A ProcessRunner that makes the real one with `load` at the first call (its interface is async throughout). */
export function lazyProcessRunner(load: () => Promise<ProcessRunner>): ProcessRunner {
  let runner: Promise<ProcessRunner> | undefined;
  const get = () => {
    runner ??= load();
    return runner;
  };
  return {
    resolve: async (program, searchPath) => (await get()).resolve(program, searchPath),
    start: async (spec, events) => (await get()).start(spec, events),
  };
}

/** The fsfreeze hook runner of node/linux/freeze-hook.ts, loaded when a hook first runs. */
export const lazyFreezeHook: FreezeHookRunner = async (hook, arg) =>
  (await import('../node/linux/freeze-hook.js')).runFsfreezeHook(hook, arg);
