// The agent's handlers for in-process tests, bound to fresh tables as agent/main.ts binds them:
// real files and processes (a ChildProcessRunner), a freeze hook runner that records instead of running.
import { type ExecLimits, ExecTable } from '../../src/commands/exec-table.js';
import { FileTable } from '../../src/commands/file-table.js';
import { FreezeController } from '../../src/commands/freeze.js';
import { createHandlers, type HandlerState, type Handlers } from '../../src/commands/index.js';
import type { FreezeHookRunner, ProcessRunner } from '../../src/node/interfaces.js';
import { ChildProcessRunner } from '../../src/node/linux/process-runner.js';

/** The agent's default caps (src/agent/settings.ts), for tests that do not test the caps. */
export const TEST_EXEC_LIMITS: ExecLimits = Object.freeze({ maxProcesses: 16, maxOutputBytes: 64 << 20, maxInputBytes: 32 << 20 });

export interface TestHandlerOptions {
  runner?: ProcessRunner;
  limits?: ExecLimits;
  runHook?: FreezeHookRunner;
}

/** Fresh state objects, as main.ts makes them once per agent. */
export function testState(opts: TestHandlerOptions = {}): HandlerState {
  return {
    files: new FileTable(),
    exec: new ExecTable(opts.runner ?? new ChildProcessRunner(), opts.limits ?? TEST_EXEC_LIMITS),
    freeze: new FreezeController({ runHook: opts.runHook ?? (async () => {}) }),
  };
}

/** Every handler, bound to fresh state. */
export function testHandlers(opts: TestHandlerOptions = {}): Handlers {
  return createHandlers(testState(opts));
}
