import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ConfigError, dumpConfig, loadConfig } from './config.js';

const load = (argv: string[], env: Record<string, string> = {}, file?: string) =>
  loadConfig(
    file === undefined ? argv : ['-c', '/conf', ...argv],
    env,
    () => file ?? '',
    () => false,
  );

describe('etcd snapshot settings', () => {
  it('are off by default, with the documented defaults', () => {
    const { config } = load([]);
    assert.equal(config.etcdSnapshotDir, undefined);
    assert.equal(config.etcdSnapshotKeep, 3);
    assert.equal(config.etcdSnapshotTimeout, 3);
    assert.equal(config.etcdSnapshotRequired, false);
    assert.equal(config.etcdSnapshotMaxBytes, 8 * 1024 ** 3);
    assert.equal(config.etcdSnapshotOnDemand, false);
    assert.deepEqual(config.etcdEndpoints, []);
  });

  it('come from flags, GUESTLINK_* and the [guestlink] group of the config file, and dump back', () => {
    const { config } = load(
      ['--etcd-snapshot-keep', '5'],
      { GUESTLINK_ETCD_SNAPSHOT_REQUIRED: 'true' },
      '[guestlink]\netcd-snapshot-dir=/var/lib/guestlink/etcd\netcd-endpoints=https://127.0.0.1:2379;https://10.0.0.2:2379\n',
    );
    assert.equal(config.etcdSnapshotDir, '/var/lib/guestlink/etcd');
    assert.equal(config.etcdSnapshotKeep, 5);
    assert.equal(config.etcdSnapshotRequired, true);
    assert.deepEqual(config.etcdEndpoints, ['https://127.0.0.1:2379', 'https://10.0.0.2:2379']);
    assert.match(dumpConfig(config), /etcd-snapshot-dir=\/var\/lib\/guestlink\/etcd\n/);
  });

  it('refuses plain http off loopback, a relative directory, a keep of 0, a timeout of 0', () => {
    assert.throws(
      () => load(['--etcd-endpoints', 'http://10.0.0.2:2379']),
      (e: Error) => e instanceof ConfigError && /only to loopback/.test(e.message),
    );
    assert.throws(() => load(['--etcd-snapshot-dir', 'snaps']), /etcd-snapshot-dir: "snaps" must be an absolute path/);
    assert.throws(() => load(['--etcd-snapshot-keep', '0']), /etcd-snapshot-keep/);
    assert.throws(() => load(['--etcd-snapshot-timeout', '0']), /etcd-snapshot-timeout/);
  });

  it('warns when on-demand or required is set without a directory', () => {
    assert.match(load(['--etcd-snapshot-on-demand']).warnings.join('\n'), /do nothing without etcd-snapshot-dir/);
  });
});
