// The malicious guest behind libvirt (the virsh double of test/host/ forwards to it): a guest-file-read
// reply far larger than asked for is cut off by the bound on virsh's output (exit 8), and a file that
// keeps coming is stopped at the kubeconfig bound, as on a unix: address.
import assert from 'node:assert/strict';
import { chmodSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, describe, test } from 'node:test';
import { makeTempDir, REPO_ROOT } from '../peer/harness.js';
import { fileHandlers, type HostileGuest, startHostileGuest } from './hostile-guest.js';
import { CLI_PEAK_RSS_CEILING_KIB, runCliMeasured } from './measure-cli.js';

const MiB = 1 << 20;

describe('libvirt: with a malicious guest behind virsh', () => {
  const guests: HostileGuest[] = [];
  after(async () => {
    for (const g of guests) await g.stop();
  });
  const viaVirsh = async (handlers: Parameters<typeof startHostileGuest>[0]) => {
    const g = await startHostileGuest({ ...handlers, 'guest-network-get-interfaces': (_a, r) => r.ok([]) });
    guests.push(g);
    const dir = makeTempDir();
    const virsh = path.join(dir, 'virsh');
    writeFileSync(virsh, `#!/bin/sh\nexec "${process.execPath}" "${path.join(REPO_ROOT, 'dist/test/host/virsh-double.js')}" "$@"\n`);
    chmodSync(virsh, 0o755);
    return { g, env: { GUESTLINK_VIRSH: virsh, GL_VIRSH_DOMAINS: JSON.stringify({ evil: g.socket }) } };
  };

  test('a 4 MiB reply to a guest-file-read that asked for at most 1 MiB + 1: refused (exit 8)', async () => {
    const { env } = await viaVirsh(fileHandlers({ stream: 4 * MiB, greedy: true }));
    const r = await runCliMeasured(['kubeconfig', 'libvirt:evil', '--path', '/k'], { env });
    assert.equal(r.status, 8, r.stderr);
    assert.match(r.stderr, /virsh qemu-agent-command printed more than \d+ bytes; stopped reading/);
    assert.ok((r.peakKiB as number) < CLI_PEAK_RSS_CEILING_KIB, `peak ${r.peakKiB} KiB`);
  });

  test('a file that keeps coming, in honest chunks: stopped at the kubeconfig bound (exit 8)', async () => {
    const { g, env } = await viaVirsh(fileHandlers({ stream: 400 * MiB }));
    const r = await runCliMeasured(['kubeconfig', 'libvirt:evil', '--path', '/k'], { env });
    assert.equal(r.status, 8, r.stderr);
    const asked = g.requests.filter((q) => q.execute === 'guest-file-read').reduce((n, q) => n + Number(q.arguments?.count), 0);
    assert.ok(asked <= MiB + 1, `asked for ${asked}`);
  });
});
