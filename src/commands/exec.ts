// guest-exec and guest-exec-status as qemu-ga answers them, allowed only for programs on
// --allow-exec (exact absolute paths after the PATH lookup; '*' allows any). Never a shell.
import { genericError } from '../protocol/qga/errors.js';
import { decodeBase64 } from './base64.js';
import type { Handler } from './context.js';
import { type CaptureMode, ExecTable, execAllowed, resolveProgram, spawnFailed } from './exec-table.js';

interface ExecArgs {
  path: string;
  arg?: string[];
  env?: string[];
  'input-data'?: string;
  'capture-output'?: boolean | CaptureMode;
}

function captureMode(v: ExecArgs['capture-output']): CaptureMode {
  if (v === undefined || v === false) return 'none';
  if (v === true) return 'separated';
  return v;
}

/** Handlers bound to one process table (tests make their own). */
export function makeExecHandlers(table: ExecTable): Record<string, Handler> {
  return {
    'guest-exec': async (args: ExecArgs, ctx) => {
      const envPath = args.env?.find((e) => e.startsWith('PATH='))?.slice(5);
      let resolved: string;
      try {
        resolved = await resolveProgram(args.path, envPath, ctx.settings.execSearchPath);
      } catch (err) {
        if (!ctx.settings.allowExec.includes('*'))
          throw genericError(
            `guest-exec: '${args.path}' is not allowed (not found in PATH; allow programs by absolute path with --allow-exec)`,
            'NOT_ALLOWED',
          );
        throw spawnFailed(args.path, err);
      }
      if (!execAllowed(resolved, ctx.settings.allowExec)) {
        const shown = resolved === args.path ? `'${args.path}'` : `'${args.path}' (${resolved})`;
        throw genericError(`guest-exec: ${shown} is not allowed (allow it with --allow-exec)`, 'NOT_ALLOWED');
      }
      const input = args['input-data'] !== undefined ? decodeBase64(args['input-data']) : undefined;
      const pid = await table.start(resolved, {
        path: args.path,
        args: args.arg ?? [],
        ...(args.env ? { env: args.env } : {}),
        ...(input ? { input } : {}),
        capture: captureMode(args['capture-output']),
      });
      return { pid };
    },
    'guest-exec-status': (args: { pid: number | bigint }) => ({ ...table.status(args.pid) }),
  };
}

/** The agent's one process table. */
export const execTable = new ExecTable();

export const execHandlers: Record<string, Handler> = makeExecHandlers(execTable);
