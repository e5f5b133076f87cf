// `guestlink rollout reboot|status`: the health-gated rolling reboot (docs/rollout.md). This file
// stays small and loads the rest (and with it the Kubernetes client) only when the verb is used.

import { UsageError } from '../args.js';
import { describeError } from '../exit-codes.js';
import type { StandaloneVerb } from './types.js';

/** The verb table's entry. */
export const rollout: StandaloneVerb = {
  kind: 'standalone',
  name: 'rollout',
  usage:
    'rollout reboot VM... [--kubeconfig FILE] [--dry-run] [--order O] [--max-unavailable N] [--resume] ... | rollout status [--state FILE]',
  summary: 'reboot Kubernetes nodes batch by batch, drained by their agents and health-gated (docs/rollout.md)',
  async run(ctx) {
    const [sub, ...rest] = ctx.args;
    const { rolloutExit } = await import('../rollout/exit.js');
    try {
      if (sub === 'reboot') return await (await import('../rollout/reboot.js')).rolloutReboot(ctx, rest);
      if (sub === 'status') return await (await import('../rollout/status.js')).rolloutStatus(ctx, rest);
      throw new UsageError(`rollout needs reboot or status: guestlink ${rollout.usage}`);
    } catch (err) {
      const code = rolloutExit(err);
      // The rollout's own messages are escaped where they are made; others (virsh's, Proxmox's) may
      // carry a guest's or a server's text: escaped here, line by line.
      const { printable } = await import('../../host/rollout/names.js');
      const message =
        err instanceof Error && err.name === 'RolloutError'
          ? err.message
          : describeError(err)
              .message.split('\n')
              .map((l) => printable(l, 2000))
              .join('\n');
      ctx.io.stderr.write(`guestlink: ${message}\n${code === 2 ? 'Try: guestlink --help, docs/rollout.md\n' : ''}`);
      return code;
    }
  },
};
