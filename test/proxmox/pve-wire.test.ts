// Proxmox VE's way of talking to the agent (test/doubles/pve-client.ts follows qemu-server's
// QMPClient.pm), against guestlink and, for the same calls, the real qemu-ga: whatever Proxmox
// accepts from qemu-ga it must accept from guestlink. Shutdown "accepted on EOF" needs a VM that
// really powers off: see test/e2e (here the dry-run back end records it and no reply comes).
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { pveCommand } from '../doubles/pve-client.js';
import { HAVE_QEMU_GA, makeTempDir, type Peer, type Peers, QEMU_BLOCK, startGuestlink, startPeers } from '../peer/harness.js';

describe('Proxmox VE wire behaviour', () => {
  let qemu: Peers | undefined;
  let agent: Peer;
  let dir: string;
  let file: string;
  before(async () => {
    // qemu-ga with its dangerous commands blocked (it would act on this machine); guestlink with the
    // dry-run power back end and allow-lists for the exec and file calls Proxmox passes through.
    if (HAVE_QEMU_GA) qemu = await startPeers({ agent: false });
    dir = makeTempDir();
    file = path.join(dir, 'kubeconfig');
    writeFileSync(file, 'apiVersion: v1\nkind: Config\n');
    const block = QEMU_BLOCK.filter((c) => c !== 'guest-shutdown');
    agent = await startGuestlink(dir, ['-b', block.join(','), '--allow-exec', '/bin/echo', '--allow-file-read', file]);
  });
  after(async () => {
    await agent?.stop();
    await qemu?.stop();
  });

  // Every test below runs against the agents that are here; a missing qemu-ga shows as this skip (which fails CI).
  test('qemu-ga is here to compare with', { skip: HAVE_QEMU_GA ? false : 'qemu-ga is not installed: only guestlink was checked' }, () => {
    assert.ok(qemu?.qemu, 'qemu-ga started');
  });

  const sockets = () => [...(qemu?.qemu ? [['qemu-ga', qemu.qemu.socket] as const] : []), ['guestlink', agent.socket] as const];

  test('ping, info and network-get-interfaces: one connection per call, both agents answer the regex', async () => {
    for (const [name, sock] of sockets()) {
      for (const cmd of ['guest-ping', 'guest-info', 'guest-network-get-interfaces', 'guest-get-osinfo', 'guest-get-fsinfo']) {
        // pveCommand fails a call that outlasts Proxmox's own timeout for it (3 s for the ping), as Proxmox does.
        const r = await pveCommand(sock, cmd);
        assert.ok(r.reply && 'return' in r.reply, `${name} ${cmd}: ${JSON.stringify(r.reply)}`);
      }
    }
  });

  test('fsfreeze-status, and freeze/thaw refused cleanly when blocked (an error reply, never a hang)', async () => {
    for (const [name, sock] of sockets()) {
      const st = await pveCommand(sock, 'guest-fsfreeze-status');
      assert.equal(st.reply?.return, 'thawed', name);
      const fr = await pveCommand(sock, 'guest-fsfreeze-freeze');
      assert.equal(fr.reply?.error?.class, 'CommandNotFound', name);
      const th = await pveCommand(sock, 'guest-fsfreeze-thaw');
      assert.equal(typeof th.reply?.return, 'number', `${name}: thaw is allowed and returns a count`);
    }
  });

  test('exec + exec-status polled each second, as the GUI does', async () => {
    for (const [name, sock] of sockets()) {
      const ex = await pveCommand(sock, 'guest-exec', { path: '/bin/echo', arg: ['hello', 'pve'], 'capture-output': true });
      const pid = (ex.reply?.return as { pid?: number } | undefined)?.pid;
      assert.equal(typeof pid, 'number', `${name}: ${JSON.stringify(ex.reply)}`);
      let status: Record<string, unknown> = {};
      for (let i = 0; i < 20 && !status.exited; i++) {
        await new Promise((r) => setTimeout(r, i === 0 ? 50 : 200));
        status = (await pveCommand(sock, 'guest-exec-status', { pid })).reply?.return as Record<string, unknown>;
      }
      assert.equal(status.exited, true, name);
      assert.equal(status.exitcode, 0, name);
      assert.equal(Buffer.from(String(status['out-data']), 'base64').toString(), 'hello pve\n', name);
    }
  });

  test('file-read in 1 MiB chunks as "qm guest exec/file-read" does', async () => {
    for (const [name, sock] of sockets()) {
      const open = await pveCommand(sock, 'guest-file-open', { path: file });
      const handle = open.reply?.return as number;
      assert.equal(typeof handle, 'number', `${name}: ${JSON.stringify(open.reply)}`);
      const read = await pveCommand(sock, 'guest-file-read', { handle, count: 1024 * 1024 });
      const r = read.reply?.return as { count: number; 'buf-b64': string; eof: boolean };
      assert.equal(Buffer.from(r['buf-b64'], 'base64').toString(), readFileSync(file, 'utf8'), name);
      assert.equal(r.eof, true, name);
      assert.deepEqual((await pveCommand(sock, 'guest-file-close', { handle })).reply?.return, {}, name);
    }
  });

  test('guest-shutdown: Proxmox waits for EOF; with the dry-run back end guestlink records it and stays up', async () => {
    const sock = agent.socket;
    const r = await pveCommand(sock, 'guest-shutdown', { mode: 'powerdown' }, 1).catch((e: Error) => e);
    assert.ok(r instanceof Error && /timeout/.test(r.message), 'no reply on success, as with qemu-ga');
    const recorded = readFileSync(path.join(dir, 'gst', 'guestlink-power.jsonl'), 'utf8')
      .trim()
      .split('\n');
    assert.equal(JSON.parse(recorded.at(-1) as string).mode, 'powerdown');
    assert.deepEqual((await pveCommand(sock, 'guest-ping')).reply?.return, {});
  });

  test("a garbage-laden previous connection cannot confuse the next one (Proxmox's stale-id skip still works)", async () => {
    const sock = agent.socket;
    const net = await import('node:net');
    await new Promise<void>((resolve) => {
      const s = net.createConnection(sock, () => {
        s.write('{"execute":"guest-ping"');
        s.end();
      });
      s.on('close', () => resolve());
    });
    assert.deepEqual((await pveCommand(sock, 'guest-ping')).reply?.return, {});
  });
});
