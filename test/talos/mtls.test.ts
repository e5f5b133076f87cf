// DaemonSet mode: the real agent reaches a Talos API double over mTLS with Ed25519 certificates made
// by openssl (talosconfig with base64 PEMs and the `ED25519 PRIVATE KEY` label), sends `node`
// metadata, is refused with certificates from another CA, maps os:reader's PermissionDenied to a
// clear GenericError, and warns at start-up about os:admin and a talosconfig others can read.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { TalosApiDouble } from '../doubles/talos-api.js';
import { makeTempDir, type Peer, startGuestlink } from '../peer/harness.js';
import { fillFixtures, plain, qga, show, until } from './helpers.js';
import { type KeyPair, makeCa, makeLeaf, writeTalosconfig } from './pki.js';

const NODE_IP = '10.5.0.2';

describe('Talos back end over apid mTLS (double)', () => {
  let dir: string;
  let double: TalosApiDouble;
  let ca: KeyPair;
  let rogueCa: KeyPair;
  const clients: Record<string, KeyPair> = {};
  const peers: Peer[] = [];

  /** A talosconfig for `client` in `dir`, pointing at the double. */
  const config = (name: string, client: KeyPair, opts: { mode?: number; ca?: KeyPair } = {}) => {
    const file = path.join(dir, `${name}.talosconfig`);
    writeTalosconfig(file, { endpoint: double.address, ca: (opts.ca ?? ca).crt, client, ...(opts.mode ? { mode: opts.mode } : {}) });
    return file;
  };
  const agent = async (args: string[]) => {
    const p = await startGuestlink(mkdtempSync(path.join(dir, 'agent-')), ['--node-backend', 'talos', '--power', 'auto', ...args]);
    peers.push(p);
    return p;
  };

  before(async () => {
    dir = makeTempDir('guestlink-talos-mtls-');
    ca = makeCa(dir, 'talos-ca');
    rogueCa = makeCa(dir, 'rogue-ca');
    const server = makeLeaf(dir, 'talos-ca', 'apid', { orgs: ['talos'], server: true });
    clients.operator = makeLeaf(dir, 'talos-ca', 'operator', { orgs: ['os:operator'] });
    clients.admin = makeLeaf(dir, 'talos-ca', 'admin', { orgs: ['os:admin'] });
    clients.reader = makeLeaf(dir, 'talos-ca', 'reader', { orgs: ['os:reader'] });
    clients.rogue = makeLeaf(dir, 'rogue-ca', 'rogue', { orgs: ['os:operator'] });
    double = await TalosApiDouble.start({ kind: 'mtls', ca: ca.crt, cert: server.crt, key: server.key });
    fillFixtures(double);
  });
  after(async () => {
    for (const p of peers) await p.stop();
    await double?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  test('os:operator: reboot reaches apid as Reboot{POWERCYCLE} for the node named in `node` metadata', async () => {
    const a = await agent([
      '--talosconfig',
      config('operator', clients.operator as KeyPair),
      '--talos-node',
      NODE_IP,
      '--talos-reboot-mode',
      'powercycle',
    ]);
    const r = await qga(a.socket, 'guest-shutdown', { mode: 'reboot' }, 1500);
    assert.deepEqual(r, { return: null }, a.stderr());
    await until(() => double.callsTo('Reboot').length > 0, 2000, 'Reboot at the double');
    const call = double.callsTo('Reboot').at(-1);
    assert.deepEqual(call?.request, { mode: 'POWERCYCLE' });
    assert.equal(call?.node, NODE_IP);
    assert.deepEqual(call?.roles, ['os:operator']);
    assert.deepEqual(plain(await qga(a.socket, 'guest-get-host-name')), { return: { 'host-name': 'talos-cp-1' } });
    assert.equal(double.callsTo('Get').at(-1)?.node, NODE_IP);
    assert.doesNotMatch(a.stderr(), /carry os:admin/);
    // The talosconfig lists nodes: [10.9.9.9]; only --talos-node may choose the target.
    assert.ok(!double.calls.some((c) => c.node === '10.9.9.9'));
  });

  test('os:admin and a group/other-readable talosconfig on a non-tmpfs mount: warned at start-up, still served', async () => {
    const a = await agent(['--talosconfig', config('admin', clients.admin as KeyPair, { mode: 0o644 }), '--talos-node', NODE_IP]);
    const log = a.stderr();
    assert.match(log, /carry os:admin; guestlink needs only os:operator/);
    assert.match(log, /admin\.talosconfig is readable or writable by group\/others \(mode 0644\)/);
    // The test's temp dir is on the machine's disk, not a Secret's tmpfs.
    assert.match(log, /admin\.talosconfig is on a \w+ mount .* other pods can read/);
    const r = await qga(a.socket, 'guest-get-osinfo');
    assert.ok('return' in r, show(r));
  });

  test('os:reader: guest-shutdown gets a GenericError naming the role it needs; reads still work', async () => {
    const a = await agent(['--talosconfig', config('reader', clients.reader as KeyPair), '--talos-node', NODE_IP]);
    assert.match(a.stderr(), /carry os:reader: Talos will refuse guest-shutdown/);
    const before = double.callsTo('Shutdown').length;
    const r = await qga(a.socket, 'guest-shutdown', { mode: 'powerdown' }, 3000);
    assert.ok('error' in r && r.error.class === 'GenericError', show(r));
    assert.match(r.error.desc, /Talos API refused Shutdown: not authorized; the credentials need role os:operator or os:admin/);
    assert.deepEqual(double.callsTo('Shutdown').at(-1)?.roles, ['os:reader']);
    assert.equal(double.callsTo('Shutdown').length, before + 1, 'refused, not retried');
    const n = await qga(a.socket, 'guest-network-get-interfaces');
    assert.ok('return' in n, show(n));
  });

  test('a client certificate from another CA is refused in the TLS handshake: GenericError, nothing reaches the API', async () => {
    const calls = double.calls.length;
    const a = await agent(['--talosconfig', config('rogue', clients.rogue as KeyPair), '--talos-node', NODE_IP, '--talos-timeout', '2']);
    const r = await qga(a.socket, 'guest-shutdown', { mode: 'powerdown' }, 30_000);
    assert.ok('error' in r && r.error.class === 'GenericError', show(r));
    // The agent reports how long it kept trying: up to its --talos-timeout, the bound it enforces.
    const m = /Talos API at 127\.0\.0\.1:\d+ unreachable for Shutdown \(\d+ attempts? in (\d+\.\d) s\)/.exec(r.error.desc);
    assert.ok(m, r.error.desc);
    assert.equal(double.calls.length, calls, 'nothing reached the API');
  });

  test('a server the talosconfig CA did not sign is refused by the agent', async () => {
    const calls = double.calls.length;
    const a = await agent([
      '--talosconfig',
      config('wrong-ca', clients.operator as KeyPair, { ca: rogueCa }),
      '--talos-node',
      NODE_IP,
      '--talos-timeout',
      '2',
    ]);
    const r = await qga(a.socket, 'guest-get-host-name', undefined, 6000);
    assert.ok('error' in r && r.error.class === 'GenericError', show(r));
    assert.match(r.error.desc, /unreachable for Get/);
    assert.equal(double.calls.length, calls);
  });

  test('a renewed certificate (the ServiceAccount Secret rotates) is used without a restart', async () => {
    // Starts with a certificate apid does not accept, as if it had expired.
    const file = config('rotating', clients.rogue as KeyPair);
    const a = await agent(['--talosconfig', file, '--talos-node', NODE_IP, '--talos-timeout', '1']);
    const r1 = await qga(a.socket, 'guest-get-host-name', undefined, 4000);
    assert.ok('error' in r1, show(r1));
    writeTalosconfig(file, { endpoint: double.address, ca: ca.crt, client: clients.operator as KeyPair });
    const r2 = await qga(a.socket, 'guest-get-host-name', undefined, 4000);
    assert.deepEqual(plain(r2), { return: { 'host-name': 'talos-cp-1' } }, a.stderr());
  });

  test('a talosconfig without --talos-node is refused at start-up: apid might act on another node', async () => {
    await assert.rejects(
      startGuestlink(mkdtempSync(path.join(dir, 'agent-')), [
        '--node-backend',
        'talos',
        '--talosconfig',
        config('no-node', clients.operator as KeyPair),
      ]),
      /talos-node is required with a talosconfig/,
    );
  });
});
