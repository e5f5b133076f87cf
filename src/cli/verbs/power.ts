// shutdown and reboot through the agent (guest-shutdown: no reply on success, so success is the
// agent's silence or its going away; libvirt and Proxmox use their own power paths, see connectors).
import type { PerVmVerb } from './types.js';

export const shutdown: PerVmVerb = {
  kind: 'per-vm',
  name: 'shutdown',
  usage: 'shutdown VM... [--mode powerdown|halt]',
  summary: 'shut the guest down through its agent',
  trailing: 0,
  async one(conn, ctx) {
    const mode = ctx.options.mode;
    await conn.call('guest-shutdown', { mode }, { timeoutMs: ctx.timeoutMs });
    return { data: { requested: mode }, table: () => `shutdown requested (${mode})\n`, summary: `requested (${mode})` };
  },
};

export const reboot: PerVmVerb = {
  kind: 'per-vm',
  name: 'reboot',
  usage: 'reboot VM...',
  summary: 'reboot the guest through its agent',
  trailing: 0,
  async one(conn, ctx) {
    await conn.call('guest-shutdown', { mode: 'reboot' }, { timeoutMs: ctx.timeoutMs });
    return { data: { requested: 'reboot' }, table: () => 'reboot requested\n', summary: 'requested' };
  },
};
