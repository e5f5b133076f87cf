// guest-shutdown and guest-suspend-*: no reply on success (the caller sees the VM go down).
import type { ShutdownMode } from '../node/interfaces.js';
import { errors } from '../protocol/qga/errors.js';
import type { GroupHandlers } from './context.js';

const MODES: readonly string[] = ['powerdown', 'halt', 'reboot'];

/** Power actions (group 'power'), through the back end's Power (dry-run, logind, Talos, ...). */
export const powerHandlers = {
  'guest-shutdown': async (args: { mode?: string }, ctx) => {
    const mode = args.mode ?? 'powerdown';
    if (!MODES.includes(mode)) throw errors.paramValue('mode', "'halt', 'powerdown', or 'reboot'");
    ctx.log.info({ mode, backend: ctx.node.power.name }, 'shutdown requested by the hypervisor');
    await ctx.node.power.shutdown(mode as ShutdownMode);
  },
  'guest-suspend-disk': async (_a, ctx) => ctx.node.power.suspend('disk'),
  'guest-suspend-ram': async (_a, ctx) => ctx.node.power.suspend('ram'),
  'guest-suspend-hybrid': async (_a, ctx) => ctx.node.power.suspend('hybrid'),
} satisfies GroupHandlers<'power'>;
