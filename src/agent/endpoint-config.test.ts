// The management endpoint's settings: off by default, documented defaults, and combinations that
// cannot work refused at start-up with the reason.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { dumpConfig, loadConfig } from './config.js';

const load = (argv: string[]) =>
  loadConfig(
    argv,
    {},
    () => '',
    () => false,
  );

test('off by default, with the documented defaults', () => {
  const { config } = load([]);
  assert.equal(config.listen, undefined);
  assert.deepEqual(
    [config.identity, config.csrSigner, config.csrApprove, config.csrExpiration],
    ['auto', 'kubernetes.io/kubelet-serving', 'external', '720h'],
  );
  assert.deepEqual(
    [
      config.listenMaxConnections,
      config.listenHandshakeTimeout,
      config.listenIdleTimeout,
      config.listenMaxRequestBytes,
      config.listenTokens,
    ],
    [32, '10s', '5m', 4 << 20, false],
  );
  assert.deepEqual([config.authzTimeout, config.authzCacheTtl, config.authzCacheSize, config.authzMaxPending], ['2s', '30s', 1024, 64]);
  assert.equal(config.tokenAudience, 'guestlink');
});

test('listen addresses: IPv4, [IPv6], host names; port 0 for any', () => {
  for (const a of ['tls://0.0.0.0:10280', 'tls://[::]:10280', 'tls://node-1.lab:443', 'tls://127.0.0.1:0'])
    assert.equal(load(['--listen', a]).config.listen, a);
  for (const a of ['tcp://0.0.0.0:1', 'tls://0.0.0.0', 'tls://::1:10280', 'tls://x:99999'])
    assert.throws(() => load(['--listen', a]), /listen/, a);
});

test('combinations that cannot work are refused with the reason', () => {
  assert.throws(() => load(['--tls-cert', '/etc/tls.crt']), /--tls-cert and --tls-key go together/);
  assert.throws(() => load(['--identity', 'files', '--listen', 'tls://0.0.0.0:1']), /--identity files needs --tls-cert and --tls-key/);
  assert.throws(() => load(['--identity', 'off', '--listen', 'tls://0.0.0.0:1']), /needs a serving certificate/);
  assert.throws(() => load(['--csr-expiration', '5m']), /csr-expiration: "5m" must be a duration from 10m to 8760h/);
  assert.throws(() => load(['--authz-timeout', '0']), /authz-timeout/);
  assert.throws(() => load(['--csr-signer', 'not a signer']), /signerName/);
  assert.throws(() => load(['--tls-key', 'relative.key', '--tls-cert', '/a']), /absolute path/);
  assert.match(load(['--listen-tokens']).warnings.join('\n'), /no effect without --listen/);
});

test('--dump-conf prints the endpoint settings back in [guestlink]', () => {
  const { config } = load(['--listen', 'tls://0.0.0.0:10280', '--csr-approve', 'self', '--authz-cache-ttl', '0']);
  const text = dumpConfig(config);
  assert.match(text, /^listen=tls:\/\/0\.0\.0\.0:10280$/m);
  assert.match(text, /^csr-approve=self$/m);
  assert.match(text, /^authz-cache-ttl=0$/m);
});
