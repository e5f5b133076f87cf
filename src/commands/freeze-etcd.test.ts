import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { Logger } from 'pino';
import type { EtcdSnapshot, NodeBackend } from '../node/interfaces.js';
import { errors, type QgaError } from '../protocol/qga/errors.js';
import { snapshotBeforeFreeze, withSnapshotNote } from './freeze-etcd.js';

const SNAP: EtcdSnapshot = { path: '/var/s/etcd-x-rev9.db', revision: 9, size: 544, sha256: 'ab', takenAt: 't', durationMs: 1 };
const failing = Object.assign(new Error('etcd at https://127.0.0.1:2379 unreachable: connect ECONNREFUSED'), { code: 'ETCD_UNREACHABLE' });

function ctx(take: () => Promise<EtcdSnapshot>, required = false) {
  const warns: unknown[] = [];
  return {
    warns,
    c: {
      node: { etcdSnapshots: { dir: '/var/s', source: 'etcd', take, last: () => undefined } } as unknown as NodeBackend,
      settings: { etcdSnapshotRequired: required } as never,
      log: { info: () => {}, warn: (...a: unknown[]) => warns.push(a) } as unknown as Logger,
    },
  };
}

describe('the snapshot step of the freeze', () => {
  test('no etcd snapshots configured: nothing happens', async () => {
    assert.equal(
      await snapshotBeforeFreeze({ node: {} as NodeBackend, settings: {} as never, log: {} as Logger }, 'guest-fsfreeze-freeze'),
      undefined,
    );
  });
  test('taken: returned for the freeze', async () => {
    assert.equal(await snapshotBeforeFreeze(ctx(async () => SNAP).c, 'guest-fsfreeze-freeze'), SNAP);
  });
  test('failed, not required: a warning, and the freeze goes on', async () => {
    const { c, warns } = ctx(async () => Promise.reject(failing));
    assert.equal(await snapshotBeforeFreeze(c, 'guest-fsfreeze-freeze'), undefined);
    assert.match(JSON.stringify(warns), /ETCD_UNREACHABLE.*freezing anyway/);
  });
  test('failed, required: a GenericError naming the command, the rule and the reason', async () => {
    await assert.rejects(
      snapshotBeforeFreeze(ctx(async () => Promise.reject(failing), true).c, 'guest-fsfreeze-freeze-list'),
      (e: QgaError) => {
        assert.equal(e.errorClass, 'GenericError');
        assert.equal(e.code, 'ETCD_UNREACHABLE');
        assert.equal(
          e.desc,
          'guest-fsfreeze-freeze-list: nothing was frozen: the etcd snapshot failed and --etcd-snapshot-required is set: etcd at https://127.0.0.1:2379 unreachable: connect ECONNREFUSED',
        );
        return true;
      },
    );
  });
  test('a later freeze error names the snapshot taken before it', () => {
    const e = withSnapshotNote(errors.unsupported('fsfreeze on Talos'), SNAP) as QgaError;
    assert.equal(
      e.desc,
      'this feature or command is not currently supported: fsfreeze on Talos; an etcd snapshot was taken before: /var/s/etcd-x-rev9.db (revision 9)',
    );
    assert.equal(e.code, 'UNSUPPORTED');
    const plain = new Error('x');
    assert.equal(withSnapshotNote(plain, SNAP), plain);
    assert.equal(withSnapshotNote(plain, undefined), plain);
  });
});
