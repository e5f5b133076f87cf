// Differential test of the storage and freeze-status commands: the real qemu-ga 7.2 and guestlink on
// this machine must report the same filesystems (used-bytes may drift between the two reads) and the
// same disks, and both say "thawed". fsfreeze-freeze(-list) and fstrim stay blocked on both (they
// would act on this machine's filesystems); member order is not compared (qemu-ga's follows its hash
// table), values are.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { HAVE_QEMU_GA, type Peers, startPeers } from './harness.js';

const skip = HAVE_QEMU_GA ? false : 'qemu-ga is not installed (/usr/sbin/qemu-ga)';

let peers: Peers;
before(async () => {
  if (!skip) peers = await startPeers();
});
after(async () => {
  await peers?.stop();
});

async function both(command: string): Promise<[unknown, unknown]> {
  const [q, g] = await peers.both([`{"execute":"${command}"}\n`], { replies: 1 });
  return [JSON.parse(q.toString('utf8')), JSON.parse(g.toString('utf8'))];
}

type Fs = { name: string; mountpoint: string; 'used-bytes'?: number; 'total-bytes'?: number };

describe('storage commands against qemu-ga', { skip }, () => {
  test('guest-get-fsinfo: same filesystems, disks and sizes; used-bytes within 1 GiB', async () => {
    const [q, g] = (await both('guest-get-fsinfo')) as [{ return: Fs[] }, { return: Fs[] }];
    assert.ok(Array.isArray(q.return), JSON.stringify(q));
    assert.ok(q.return.length > 0, 'qemu-ga reports at least the root filesystem here');
    assert.equal(g.return.length, q.return.length);
    for (const [i, qf] of q.return.entries()) {
      const gf = g.return[i] as Fs;
      assert.ok(Math.abs((gf['used-bytes'] ?? -1e18) - (qf['used-bytes'] ?? 0)) < 2 ** 30, `used-bytes of ${qf.mountpoint}`);
      const { 'used-bytes': _q, ...qRest } = qf;
      const { 'used-bytes': _g, ...gRest } = gf;
      assert.deepEqual(gRest, qRest);
    }
  });

  test('guest-get-disks: identical', async () => {
    const [q, g] = await both('guest-get-disks');
    assert.ok(Array.isArray((q as { return: unknown[] }).return), JSON.stringify(q));
    assert.deepEqual(g, q);
  });

  test('guest-fsfreeze-status: identical ("thawed")', async () => {
    const [q, g] = await both('guest-fsfreeze-status');
    assert.deepEqual(q, { return: 'thawed' });
    assert.deepEqual(g, q);
  });

  test('guest-fsfreeze-freeze and guest-fstrim are blocked on both', async () => {
    for (const c of ['guest-fsfreeze-freeze', 'guest-fsfreeze-freeze-list', 'guest-fstrim']) {
      const [q, g] = (await both(c)) as [{ error?: { class: string } }, { error?: { class: string } }];
      assert.equal(q.error?.class, 'CommandNotFound', c);
      assert.deepEqual(g, q);
    }
  });
});
