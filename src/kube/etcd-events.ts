// etcd snapshots as Events on the Node: a Warning when one fails (so a backup that carries none is
// seen in `kubectl describe node`, not only in the agent's log), a Normal one when one is taken.
// The Recorder posts in the background: a slow API server never delays the freeze.
import type { EtcdSnapshots, NodeBackend } from '../node/interfaces.js';
import type { Recorder } from './events.js';

const WHY = { freeze: 'before a filesystem freeze', command: 'on request (guestlink-etcd-snapshot)' } as const;

/** The back end with its etcd snapshots reported as Node events; unchanged when it has none. */
export function withEtcdEvents(backend: NodeBackend, recorder: Pick<Recorder, 'record'>): NodeBackend {
  const inner = backend.etcdSnapshots;
  if (!inner) return backend;
  const etcdSnapshots: EtcdSnapshots = {
    dir: inner.dir,
    source: inner.source,
    last: () => inner.last(),
    take: async (trigger) => {
      try {
        const s = await inner.take(trigger);
        recorder.record('EtcdSnapshotTaken', `etcd snapshot ${s.path} (revision ${s.revision}, ${s.size} bytes) taken ${WHY[trigger]}`, {
          etcdSnapshot: s.path,
          revision: s.revision,
        });
        return s;
      } catch (err) {
        const code = (err as { code?: string }).code;
        recorder.record(
          'EtcdSnapshotFailed',
          `etcd snapshot ${WHY[trigger]} failed: ${(err as Error).message}`,
          code ? { code } : {},
          'Warning',
        );
        throw err;
      }
    },
  };
  return { ...backend, etcdSnapshots };
}
