// The host side of `guestlink etcd-snapshot` against a lying guest (a fake AgentConnection): a copy
// that does not hash to what the agent reported, a guest that sends more than it announced, a
// snapshot without etcd's digest, and a hostile file name. Nothing is left under the target name.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, describe, test } from 'node:test';
import type { AgentConnection } from '../../src/host/connection.js';
import { ChecksumError } from '../../src/host/errors.js';
import { fetchEtcdSnapshot, localName, NoEtcdSnapshotsError } from '../../src/host/etcd-snapshot.js';
import { buildBoltDb, withDigest } from '../../src/node/etcd/bolt.test-util.js';
import type { JsonObject, JsonValue } from '../../src/protocol/qga/json-value.js';

const DB = withDigest(buildBoltDb({ revisions: [9] }));
const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');
const dir = mkdtempSync(path.join(os.tmpdir(), 'guestlink-host-etcd-'));
after(() => rmSync(dir, { recursive: true, force: true }));

/** A guest that reports `claim` and serves `served` through guest-file-read. */
function guest(claim: Partial<Record<string, JsonValue>>, served: Buffer, enabled = true): AgentConnection {
  let at = 0;
  return {
    address: 'fake:vm',
    name: 'vm',
    limits: { readChunk: 4096, writeChunk: 4096 },
    close: () => {},
    call: async (execute: string, args?: JsonObject) => {
      switch (execute) {
        case 'guestlink-etcd-snapshot-status':
          return { enabled };
        case 'guestlink-etcd-snapshot':
          return {
            path: '/var/lib/guestlink/etcd/etcd-20250101T000000.000Z-rev9.db',
            revision: 9,
            size: DB.length,
            sha256: sha(DB),
            'taken-at': 'x',
            source: 'fake',
            ...claim,
          } as JsonObject;
        case 'guest-file-open':
          at = 0;
          return 1000;
        case 'guest-file-seek':
          return { position: args?.whence === 'end' ? served.length : 0, eof: false };
        case 'guest-file-read': {
          const n = Number(args?.count ?? 4096);
          const b = served.subarray(at, at + n);
          at += b.length;
          return { count: b.length, 'buf-b64': b.toString('base64'), eof: at >= served.length };
        }
        case 'guest-file-close':
          return {};
        default:
          throw new Error(`unexpected ${execute}`);
      }
    },
  };
}

describe('fetchEtcdSnapshot trusts only what it checked', () => {
  test('an honest guest: the file, under the guest name', async () => {
    const r = await fetchEtcdSnapshot(guest({}, DB), dir);
    assert.equal(path.basename(r.file), 'etcd-20250101T000000.000Z-rev9.db');
    assert.equal(r.bytes, DB.length);
  });

  for (const [what, claim, served, re] of [
    ['a copy that is not what the agent reported', { sha256: sha(Buffer.from('other')) }, DB, /the agent reported/],
    ['more bytes than announced', { size: 4096 }, DB, /more than the 4096 bytes it announced/],
    [
      'no etcd digest at the end',
      { size: DB.length - 32, sha256: sha(DB.subarray(0, DB.length - 32)) },
      DB.subarray(0, DB.length - 32),
      /not a whole etcd snapshot/,
    ],
    [
      "a digest that is not the database's",
      { sha256: sha(Buffer.concat([DB.subarray(0, DB.length - 1), Buffer.from([0])])) },
      Buffer.concat([DB.subarray(0, DB.length - 1), Buffer.from([0])]),
      /does not match the sha256 etcd appended/,
    ],
  ] as const) {
    test(`${what}: refused, nothing left behind`, async () => {
      const target = path.join(dir, `${what.replace(/\W+/g, '-')}.db`);
      await assert.rejects(fetchEtcdSnapshot(guest(claim, served), target), (e: Error) => e instanceof ChecksumError && re.test(e.message));
      assert.equal(existsSync(target), false);
      assert.deepEqual(
        readdirSync(dir).filter((n) => n.includes('.part')),
        [],
      );
    });
  }

  test('a guest-chosen file name is used only when it is snapshot-shaped', () => {
    assert.equal(localName('/x/../../etc/passwd'), 'etcd-snapshot.db');
    assert.equal(localName('/x/etcd-20250101T000000.000Z-rev9.db', 'pve/101'), 'pve_101-etcd-20250101T000000.000Z-rev9.db');
  });

  test('a node without etcd snapshots is told apart (fleet mode skips it)', async () => {
    await assert.rejects(fetchEtcdSnapshot(guest({}, DB, false), dir), NoEtcdSnapshotsError);
  });
});
