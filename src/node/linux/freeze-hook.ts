// Runs the fsfreeze hook (qemu-ga's -F/--fsfreeze-hook) with "freeze" or "thaw", the way qemu-ga does:
// no shell, stdio on /dev/null, its own session; a non-zero exit fails the operation with qemu-ga's text.
// The freeze commands reach it through FreezeHookRunner (node/interfaces.ts); the agent wires it in.
import { spawn } from 'node:child_process';
import { access, constants } from 'node:fs/promises';
import { genericError } from '../../protocol/qga/errors.js';
import type { FreezeHookRunner } from '../interfaces.js';

const TEXT: Record<string, string> = {
  ENOENT: 'No such file or directory',
  EACCES: 'Permission denied',
  ENOTDIR: 'Not a directory',
  ELOOP: 'Too many levels of symbolic links',
};

/** The default runner: spawn(hook, [arg]) detached with ignored stdio, waiting for its exit. */
export const runFsfreezeHook: FreezeHookRunner = async (hook, arg) => {
  try {
    await access(hook, constants.X_OK);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? '';
    throw genericError(`can't access fsfreeze hook '${hook}': ${TEXT[code] ?? code}`, 'HOOK_FAILED');
  }
  const { code, signal } = await new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve, reject) => {
    const child = spawn(hook, [arg], { stdio: 'ignore', detached: true });
    child.on('error', (err) => reject(genericError(`failed to create child process: ${err.message}`, 'HOOK_FAILED')));
    child.on('exit', (c, s) => resolve({ code: c, signal: s }));
  });
  if (signal !== null || code === null) throw genericError('fsfreeze hook has terminated abnormally', 'HOOK_FAILED');
  if (code !== 0) throw genericError(`fsfreeze hook has failed with status ${code}`, 'HOOK_FAILED');
};
