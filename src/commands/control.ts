// guest-sync, guest-sync-delimited, guest-ping, guest-info: the channel's own commands.
import type { GroupHandlers } from './context.js';

/** guest-ping's result, one shared object: nothing made per ping (the dispatcher sends `{"return": {}}` for it). */
const NOTHING = Object.freeze({});

/** The channel's own commands (group 'control'): stateless, answered at once. */
export const controlHandlers = {
  'guest-sync': (args: { id: number | bigint }) => args.id,
  'guest-sync-delimited': (args: { id: number | bigint }, ctx) => {
    ctx.session.delimitNextReply = true;
    return args.id;
  },
  'guest-ping': () => NOTHING,
  'guest-info': (_args, ctx) => {
    const info = ctx.agentInfo();
    return {
      version: info.version,
      supported_commands: info.commands.map((c) => ({
        enabled: c.enabled,
        name: c.name,
        'success-response': c.successResponse,
      })),
    };
  },
} satisfies GroupHandlers<'control'>;
