// guest-exec and guest-exec-status as qemu-ga answers them, allowed only for programs on --allow-exec
// (exact absolute paths after the PATH lookup, optionally pinned to arguments; '*' allows any), with a
// fixed environment (exec-env.ts) and the process table's caps (exec-table.ts). Never a shell.
import { genericError } from '../protocol/qga/errors.js';
import type { BulkString } from '../protocol/qga/json-bulk.js';
import { decodeBase64, decodedSize } from './base64.js';
import type { GroupHandlers } from './context.js';
import { buildExecEnv } from './exec-env.js';
import { checkExec } from './exec-rules.js';
import { type CaptureMode, type ExecTable, spawnFailed } from './exec-table.js';

interface ExecArgs {
  path: string;
  arg?: string[];
  env?: string[];
  /** Base64; a long value comes as bytes (json-bulk.ts). */
  'input-data'?: string | BulkString;
  'capture-output'?: boolean | CaptureMode;
}

function captureMode(v: ExecArgs['capture-output']): CaptureMode {
  if (v === undefined || v === false) return 'none';
  if (v === true) return 'separated';
  return v;
}

/** Handlers bound to one process table (the agent makes one table in main.ts; tests make their own). */
export function makeExecHandlers(table: ExecTable): GroupHandlers<'exec'> {
  return {
    'guest-exec': async (args: ExecArgs, ctx) => {
      const rules = ctx.settings.allowExec;
      const anyProgram = rules.some((r) => r.program === '*');
      const env = buildExecEnv(args.env, ctx.settings);
      let resolved: string;
      try {
        resolved = await table.resolve(args.path, env.PATH as string);
      } catch (err) {
        if (!anyProgram)
          throw genericError(
            `guest-exec: '${args.path}' is not allowed (not found in PATH; allow programs by absolute path with --allow-exec)`,
            'NOT_ALLOWED',
          );
        throw spawnFailed(args.path, err);
      }
      const argv = args.arg ?? [];
      const verdict = checkExec(rules, resolved, argv);
      const shown = resolved === args.path ? `'${args.path}'` : `'${args.path}' (${resolved})`;
      if (verdict === 'program') throw genericError(`guest-exec: ${shown} is not allowed (allow it with --allow-exec)`, 'NOT_ALLOWED');
      // The arguments are not repeated: they may hold secrets, and errors reach the audit log.
      if (verdict === 'arguments')
        throw genericError(`guest-exec: ${shown} is allowed only with the arguments pinned in --allow-exec`, 'NOT_ALLOWED');
      const capture = captureMode(args['capture-output']);
      const data = args['input-data'];
      // Refused before decoding: a flood of large input-data costs no more than its request, whose bytes
      // are reused for the next one once this reply is written (the start() below checks the exact size).
      table.admit(capture, data === undefined ? 0 : decodedSize(data));
      const input = data !== undefined ? decodeBase64(data) : undefined;
      const pid = await table.start(resolved, {
        path: args.path,
        args: argv,
        env,
        ...(input ? { input } : {}),
        capture,
      });
      return { pid };
    },
    'guest-exec-status': (args: { pid: number | bigint }) => ({ ...table.status(args.pid) }),
  };
}
