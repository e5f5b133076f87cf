// guest-get-time, guest-set-time, guest-get-timezone.
import { genericError } from '../protocol/qga/errors.js';
import type { GroupHandlers } from './context.js';

/** The clock and time zone (group 'time'). */
export const timeHandlers = {
  'guest-get-time': (_a, ctx) => ctx.node.clock.now(),
  'guest-set-time': async (args: { time?: number | bigint }, ctx) => {
    if (args.time === undefined) {
      await ctx.node.clock.set();
      return;
    }
    const ns = BigInt(args.time);
    // qemu-ga rejects times that do not fit a time_t/timeval: negative or beyond 2^63 ns.
    if (ns < 0n) throw genericError('Invalid time', 'BAD_ARGUMENT');
    await ctx.node.clock.set(ns);
  },
  'guest-get-timezone': async (_a, ctx) => {
    const tz = await ctx.node.system.timezone();
    return { zone: tz.zone, offset: tz.offsetSeconds };
  },
} satisfies GroupHandlers<'time'>;
