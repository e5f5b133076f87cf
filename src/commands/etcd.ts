// guestlink's own commands for etcd snapshots: guestlink-etcd-snapshot takes one on demand (off
// unless --etcd-snapshot-on-demand); guestlink-etcd-snapshot-status reports the last attempt (at a
// freeze or on demand) and runs while frozen, so a host can see whether the backup it is taking
// carries a snapshot.
import type { EtcdSnapshot, EtcdSnapshots } from '../node/interfaces.js';
import { genericError } from '../protocol/qga/errors.js';
import type { JsonObject } from '../protocol/qga/json-value.js';
import type { CommandContext, GroupHandlers } from './context.js';

/** A snapshot in the wire's kebab-case (GuestlinkEtcdSnapshot). */
export function snapshotReply(s: EtcdSnapshot, source: string): JsonObject {
  return {
    path: s.path,
    revision: s.revision,
    size: s.size,
    sha256: s.sha256,
    'taken-at': s.takenAt,
    'duration-ms': s.durationMs,
    source,
  };
}

function configured(ctx: CommandContext): EtcdSnapshots {
  const etcd = ctx.node.etcdSnapshots;
  if (!etcd)
    throw genericError(
      'no etcd snapshots on this node: --etcd-snapshot-dir is not set, or this node runs no etcd (a worker)',
      'ETCD_NOT_CONFIGURED',
    );
  return etcd;
}

/** The handlers the command index registers. */
export const etcdHandlers: GroupHandlers<'etcd'> = {
  'guestlink-etcd-snapshot': async (_args, ctx) => {
    const etcd = configured(ctx);
    try {
      return snapshotReply(await etcd.take('command'), etcd.source);
    } catch (err) {
      throw genericError((err as Error).message, (err as { code?: string }).code ?? 'ETCD_SNAPSHOT_FAILED');
    }
  },
  'guestlink-etcd-snapshot-status': (_args, ctx) => {
    const etcd = ctx.node.etcdSnapshots;
    if (!etcd) return { enabled: false };
    const last = etcd.last();
    const out: JsonObject = { enabled: true, dir: etcd.dir, source: etcd.source };
    if (last) {
      const o: JsonObject = { trigger: last.trigger, at: last.at, ok: last.snapshot !== undefined };
      if (last.snapshot) o.snapshot = snapshotReply(last.snapshot, etcd.source);
      if (last.error !== undefined) o.error = last.error;
      if (last.code !== undefined) o.code = last.code;
      out.last = o;
    }
    return out;
  },
};
