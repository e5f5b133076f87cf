import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { EtcdSnapshot, EtcdSnapshots, NodeBackend } from '../node/interfaces.js';
import { withEtcdEvents } from './etcd-events.js';

const SNAP: EtcdSnapshot = { path: '/s/etcd-x-rev5.db', revision: 5, size: 544, sha256: 'ab', takenAt: 't', durationMs: 3 };

function backend(take: EtcdSnapshots['take']): NodeBackend {
  return { name: 'linux', etcdSnapshots: { dir: '/s', source: 'etcd', take, last: () => undefined } } as unknown as NodeBackend;
}

test('a snapshot becomes a Normal event, a failure a Warning with its code; the outcome is passed through', async () => {
  const events: unknown[][] = [];
  const recorder = { record: (...a: unknown[]) => void events.push(a) };
  const ok = withEtcdEvents(
    backend(async () => SNAP),
    recorder,
  );
  assert.equal(await ok.etcdSnapshots?.take('freeze'), SNAP);
  const err = Object.assign(new Error('etcd at https://127.0.0.1:2379 unreachable'), { code: 'ETCD_UNREACHABLE' });
  const bad = withEtcdEvents(
    backend(async () => {
      throw err;
    }),
    recorder,
  );
  await assert.rejects(bad.etcdSnapshots?.take('command') as Promise<unknown>, err);
  assert.deepEqual(events, [
    [
      'EtcdSnapshotTaken',
      'etcd snapshot /s/etcd-x-rev5.db (revision 5, 544 bytes) taken before a filesystem freeze',
      { etcdSnapshot: SNAP.path, revision: 5 },
    ],
    [
      'EtcdSnapshotFailed',
      'etcd snapshot on request (guestlink-etcd-snapshot) failed: etcd at https://127.0.0.1:2379 unreachable',
      { code: 'ETCD_UNREACHABLE' },
      'Warning',
    ],
  ]);
});

test('a back end without etcd snapshots is returned as it is', () => {
  const b = { name: 'linux' } as NodeBackend;
  assert.equal(withEtcdEvents(b, { record: () => {} }), b);
});
