// Node facts: OS, host name, users, load — mapped from the node back end to QGA's shapes.
import type { GroupHandlers } from './context.js';

/** Node facts (group 'info'), mapped from the back end's SystemInfo. */
export const infoHandlers = {
  'guest-get-osinfo': async (_a, ctx) => {
    const o = await ctx.node.system.osInfo();
    return {
      'kernel-release': o.kernelRelease,
      'kernel-version': o.kernelVersion,
      machine: o.machine,
      id: o.id,
      name: o.name,
      'pretty-name': o.prettyName,
      version: o.version,
      'version-id': o.versionId,
      variant: o.variant,
      'variant-id': o.variantId,
    };
  },
  'guest-get-host-name': async (_a, ctx) => ({ 'host-name': await ctx.node.system.hostname() }),
  'guest-get-users': async (_a, ctx) =>
    (await ctx.node.system.users()).map((u) => ({ user: u.user, 'login-time': u.loginTime, domain: u.domain })),
  'guest-get-load': async (_a, ctx) => {
    const l = await ctx.node.system.loadAverage();
    return { load1m: l.load1m, load5m: l.load5m, load15m: l.load15m };
  },
} satisfies GroupHandlers<'info'>;
