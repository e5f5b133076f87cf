// The generic verb: any command of the QGA table, arguments typed by the table (see args.ts).
import { findCommand } from '../../protocol/qga/commands.js';
import { writeJson } from '../../protocol/qga/json-value.js';
import { buildArguments, UsageError } from '../args.js';
import type { PerVmVerb } from './types.js';

export const call: PerVmVerb = {
  kind: 'per-vm',
  name: 'call',
  usage: "call VM... COMMAND [--arg key=value ...] [--json '{...}']",
  summary: 'send any QGA command (see `guestlink commands`)',
  trailing: 1,
  async one(conn, ctx, [name]) {
    const spec = name ? findCommand(name) : undefined;
    if (!name || !spec) throw new UsageError(name ? `unknown command "${name}" (see: guestlink commands)` : 'call needs a command name');
    const args = buildArguments(name, spec, [...ctx.options.arg], ctx.options.json);
    const result = await conn.call(name, args, { timeoutMs: ctx.timeoutMs });
    const compact = writeJson(result);
    return {
      data: result,
      // qemu's own compact style by default, like `virsh qemu-agent-command`; -o json pretty-prints.
      table: () => (spec.successResponse === false ? '' : `${compact}\n`),
      summary: spec.successResponse === false ? 'sent' : compact.length > 70 ? `${compact.slice(0, 67)}...` : compact,
    };
  },
};

/** Checks the command name before any VM is contacted (a typo should not cost a fleet round). */
export function checkCallName(name: string | undefined): void {
  if (!name) throw new UsageError('call needs a VM address and a command name');
  if (!findCommand(name)) throw new UsageError(`unknown command "${name}" (see: guestlink commands)`);
}
