// The same malicious guest behind the Proxmox VE API (test/doubles/pve-api.ts forwards to it as
// qemu-server does): Proxmox's agent/file-read hands over up to 16 MiB of whatever the guest sends,
// as one JSON body. The CLI reads no more of that body than the kubeconfig bound allows (exit 8).
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { runCli } from '../cli/run-cli.js';
import { type PveApiDouble, startPveApi } from '../doubles/pve-api.js';
import { makeTempDir } from '../peer/harness.js';
import { fileHandlers, type HostileGuest, startHostileGuest } from './hostile-guest.js';
import { CLI_PEAK_RSS_CEILING_KIB, runCliMeasured } from './measure-cli.js';

const TOKEN = 'root@pam!guestlink=0b7c1d2e-3f40-4a5b-8c6d-7e8f9a0b1c2d';

describe('pve:// with a malicious guest behind it', () => {
  let api: PveApiDouble;
  let g: HostileGuest;
  let env: Record<string, string>;
  before(async () => {
    g = await startHostileGuest({ ...fileHandlers({ stream: 400 << 20 }), 'guest-network-get-interfaces': (_a, r) => r.ok([]) });
    const dir = makeTempDir();
    api = await startPveApi({ dir, token: TOKEN, vms: [{ node: 'pve1', vmid: 666, socket: g.socket }] });
    env = { PVE_TOKEN: TOKEN, PVE_URL: api.url };
  });
  after(async () => {
    await api?.stop();
    await g?.stop();
  });

  test('a 400 MiB kubeconfig through agent/file-read: the body is cut off at the bound (exit 8)', async () => {
    const r = await runCliMeasured(['kubeconfig', 'pve://pve1/666', '--ca', api.caFile, '--path', '/k'], { env });
    assert.equal(r.status, 8, r.stderr);
    assert.match(r.stderr, /the reply to GET \/nodes\/pve1\/qemu\/666\/agent\/file-read is over \d+ bytes; stopped reading it/);
    assert.ok((r.peakKiB as number) < CLI_PEAK_RSS_CEILING_KIB, `peak ${r.peakKiB} KiB`);
    console.log(`# pve file-read of 400 MiB: CLI peak RSS ${((r.peakKiB as number) / 1024).toFixed(1)} MiB`);
    // The same guest still answers small requests through Proxmox.
    assert.equal((await runCli(['ping', 'pve://pve1/666', '--ca', api.caFile], { env })).status, 0);
  });
});
