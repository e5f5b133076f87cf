// The etcd snapshot the freeze takes first, on a node that has one configured (NodeBackend.etcdSnapshots):
// a failure is logged and the freeze goes on (the backup stays crash-consistent, the failure is in
// guestlink-etcd-snapshot-status and a Node event), unless --etcd-snapshot-required makes it fail the
// freeze before anything is frozen. Taken before the freeze hook, so a refusal leaves nothing to undo.
import type { EtcdSnapshot } from '../node/interfaces.js';
import { genericError, QgaError } from '../protocol/qga/errors.js';
import type { CommandContext } from './context.js';

type Ctx = Pick<CommandContext, 'node' | 'settings' | 'log'>;

/** Takes the snapshot, if configured; resolves undefined when there is none or it failed and is not required. */
export async function snapshotBeforeFreeze(ctx: Ctx, command: string): Promise<EtcdSnapshot | undefined> {
  const etcd = ctx.node.etcdSnapshots;
  if (!etcd) return undefined;
  try {
    const snap = await etcd.take('freeze');
    ctx.log.info(
      { etcdSnapshot: snap.path, revision: snap.revision, bytes: snap.size, ms: snap.durationMs },
      'etcd snapshot taken before the freeze',
    );
    return snap;
  } catch (err) {
    const reason = (err as Error).message;
    const code = (err as { code?: string }).code ?? 'ETCD_SNAPSHOT_FAILED';
    if (ctx.settings.etcdSnapshotRequired)
      throw genericError(`${command}: nothing was frozen: the etcd snapshot failed and --etcd-snapshot-required is set: ${reason}`, code);
    ctx.log.warn({ code, reason }, 'etcd snapshot before the freeze failed; freezing anyway (the backup is crash-consistent only)');
    return undefined;
  }
}

/** A freeze error that says the snapshot was taken before it (the backup log then shows both). */
export function withSnapshotNote(err: unknown, snap: EtcdSnapshot | undefined): unknown {
  if (!snap || !(err instanceof QgaError)) return err;
  return new QgaError(err.errorClass, `${err.desc}; an etcd snapshot was taken before: ${snap.path} (revision ${snap.revision})`, err.code);
}
