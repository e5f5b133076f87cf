// Real libvirt against guestlink and, side by side, the real qemu-ga 7.2 in the same guest: two transient
// type='qemu' (TCG) domains booting the test initramfs (the host root over 9p, a small ext4 disk at
// /mnt/data, the same MAC and hostname), one running guestlink, one /usr/sbin/qemu-ga. Each virsh agent
// subcommand must behave the same on both: exit status, output fields, and values where the guest state
// is the same. The power subcommands run last (reboot, then shutdown). libvirtd is started only when
// none is serving, and only what was started here is stopped.
import assert from 'node:assert/strict';
import { execFile, execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { runCli } from '../cli/run-cli.js';
import { type Daemons, domainXml, LIBVIRT_URI, libvirtUnavailableReason, startDaemons } from './libvirt/daemon.js';
import { defaultAgentCommand, ensureInitramfs, kernelCmdline, REPO_ROOT, vmUnavailableReason } from './vm/vm.js';

const QEMU_GA = '/usr/sbin/qemu-ga';
const ADDON = path.join(REPO_ROOT, 'build/Release/guestlink.node');
const skip =
  vmUnavailableReason() ??
  libvirtUnavailableReason() ??
  (existsSync(QEMU_GA) ? undefined : `libvirt e2e tests skipped: ${QEMU_GA} missing (apt-get install qemu-guest-agent)`) ??
  (existsSync(ADDON) ? undefined : `libvirt e2e tests skipped: ${ADDON} not built (npm run build:native)`);
if (skip) console.log(`# ${skip}`);

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
type Kind = 'guestlink' | 'qemu-ga';
const KINDS: Kind[] = ['guestlink', 'qemu-ga'];
interface Result {
  code: number;
  stdout: string;
  stderr: string;
}

/** virsh with its exit status (the comparison needs failures too). */
function virshRaw(args: string[], timeoutMs = 90_000): Promise<Result> {
  return new Promise((resolve) => {
    execFile('virsh', ['-c', LIBVIRT_URI, ...args], { timeout: timeoutMs }, (err, stdout, stderr) => {
      const code = err ? (typeof (err as { code?: unknown }).code === 'number' ? ((err as { code: number }).code as number) : -1) : 0;
      resolve({ code, stdout, stderr });
    });
  });
}

/** "key : value" lines (virsh guestinfo, guestvcpus) as a map. */
function keyValues(text: string): Map<string, string> {
  const m = new Map<string, string>();
  for (const line of text.split('\n')) {
    const i = line.indexOf(':');
    if (i > 0) m.set(line.slice(0, i).trim(), line.slice(i + 1).trim());
  }
  return m;
}

/** virsh table output without the header rule, columns split on runs of spaces. */
function tableRows(text: string): string[][] {
  return text
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l && !/^-+$/.test(l))
    .map((l) => l.split(/\s{2,}/));
}

describe('libvirt against guestlink and qemu-ga in the same guest', { skip, timeout: 300_000, concurrency: false }, () => {
  let tmp: string;
  let daemons: Daemons | undefined;
  const dom: Record<Kind, string> = { guestlink: '', 'qemu-ga': '' };
  const consoles: Record<Kind, string> = { guestlink: '', 'qemu-ga': '' };

  /** Runs the same virsh subcommand on both domains. */
  async function both(args: (d: string) => string[]): Promise<Record<Kind, Result>> {
    const [g, q] = await Promise.all(KINDS.map((k) => virshRaw(args(dom[k]))));
    return { guestlink: g as Result, 'qemu-ga': q as Result };
  }

  /** The lines libvirtd logged about its agent connections (the debug log startDaemons set up). */
  function agentLog(): string[] {
    const log = daemons && existsSync(daemons.debugLog) ? readFileSync(daemons.debugLog, 'utf8') : '';
    return log.split('\n').filter((l) => /agent/i.test(l));
  }

  /** The last of them, for a failure's message. */
  function agentLogTail(lines = 25): string {
    return `libvirtd agent log, last lines:\n${agentLog().slice(-lines).join('\n')}`;
  }

  async function waitAgent(d: string, ms: number): Promise<number> {
    const t0 = performance.now();
    const deadline = Date.now() + ms;
    for (;;) {
      const r = await virshRaw(['qemu-agent-command', d, '--timeout', '5', '{"execute":"guest-ping"}'], 20_000);
      if (r.code === 0) return performance.now() - t0;
      if (Date.now() > deadline) throw new Error(`${d}: the agent did not answer: ${r.stderr.trim()}`);
      await sleep(500);
    }
  }

  before(async () => {
    tmp = mkdtempSync(path.join(os.tmpdir(), 'gllv-'));
    daemons = await startDaemons(tmp);
    const { kernel, initrd } = ensureInitramfs();
    const mount = 'mkdir -p /mnt/data && /run/glvm/busybox mount -t ext4 /dev/vda /mnt/data';
    const commands: Record<Kind, string> = {
      guestlink: defaultAgentCommand(['--power', 'syscall']),
      'qemu-ga': `exec ${QEMU_GA} -m virtio-serial -p /dev/virtio-ports/org.qemu.guest_agent.0`,
    };
    for (const kind of KINDS) {
      const img = path.join(tmp, `${kind}.img`);
      execFileSync('truncate', ['-s', '64M', img]);
      execFileSync('mkfs.ext4', ['-q', '-F', '-L', 'gldata', img], { stdio: 'ignore' });
      dom[kind] = `gl-e2e-${kind}-${process.pid}`;
      consoles[kind] = path.join(tmp, `${kind}-console.log`);
      const xml = path.join(tmp, `${kind}.xml`);
      writeFileSync(
        xml,
        domainXml({
          name: dom[kind],
          kernel,
          initrd,
          cmdline: kernelCmdline(`${mount}; ${commands[kind]}`, { hostname: 'gl-guest' }),
          consolePath: consoles[kind],
          disk: img,
          mac: '52:54:00:12:34:56',
        }),
      );
      const r = await virshRaw(['create', xml]);
      assert.equal(r.code, 0, `virsh create ${kind}: ${r.stderr}`);
    }
    const ready = await Promise.all(KINDS.map((k) => waitAgent(dom[k], 180_000)));
    console.log(`# domains up, agents answering after ${ready.map((ms) => (ms / 1000).toFixed(1)).join(' s / ')} s (guestlink / qemu-ga)`);
  });

  after(async () => {
    for (const kind of KINDS) if (dom[kind]) await virshRaw(['destroy', dom[kind]]);
    await daemons?.stop();
    if (tmp) rmSync(tmp, { recursive: true, force: true });
  });

  test('qemu-agent-command guest-info: same shape', async () => {
    const r = await both((d) => ['qemu-agent-command', d, '{"execute":"guest-info"}']);
    assert.equal(r.guestlink.code, r['qemu-ga'].code);
    assert.equal(r.guestlink.code, 0);
    type Info = { return: { version: string; supported_commands: Record<string, unknown>[] } };
    const g = JSON.parse(r.guestlink.stdout) as Info;
    const q = JSON.parse(r['qemu-ga'].stdout) as Info;
    assert.deepEqual(Object.keys(g).sort(), Object.keys(q).sort());
    assert.deepEqual(Object.keys(g.return).sort(), Object.keys(q.return).sort());
    assert.deepEqual(Object.keys(g.return.supported_commands[0] ?? {}).sort(), Object.keys(q.return.supported_commands[0] ?? {}).sort());
    const names = (i: Info) => new Set(i.return.supported_commands.map((c) => c.name as string));
    const missing = [...names(q)].filter((n) => !names(g).has(n));
    assert.deepEqual(missing, [], 'commands qemu-ga lists that guestlink does not');
    console.log(`# guest-info: guestlink ${g.return.version} (${names(g).size} commands), qemu-ga ${q.return.version} (${names(q).size})`);
  });

  test('guestinfo: same fields, same values where the guest is the same', async () => {
    const r = await both((d) => ['guestinfo', d]);
    assert.equal(r.guestlink.code, 0, r.guestlink.stderr);
    assert.equal(r['qemu-ga'].code, 0, r['qemu-ga'].stderr);
    const g = keyValues(r.guestlink.stdout);
    const q = keyValues(r['qemu-ga'].stdout);
    assert.deepEqual([...g.keys()].sort(), [...q.keys()].sort());
    const differ = [...q.keys()].filter((k) => g.get(k) !== q.get(k));
    // Values that depend on the process or the moment, not on the guest: none expected but the ones listed.
    const allowed = /^(fs\.\d+\.(used-bytes|total-bytes))$/;
    assert.deepEqual(
      differ.filter((k) => !allowed.test(k)),
      [],
      `guestinfo differs: ${differ.map((k) => `${k}: ${g.get(k)} vs ${q.get(k)}`).join('; ')}`,
    );
    assert.equal(g.get('hostname'), 'gl-guest');
    assert.ok(Number(g.get('fs.count')) >= 1 && Number(g.get('if.count')) >= 2, r.guestlink.stdout);
    console.log(
      `# guestinfo: ${g.size} fields on both; differing values: ${differ.map((k) => `${k} (${g.get(k)} vs ${q.get(k)})`).join(', ') || 'none'}`,
    );
  });

  test('domifaddr --source agent: identical output', async () => {
    const r = await both((d) => ['domifaddr', d, '--source', 'agent', '--full']);
    assert.equal(r.guestlink.code, 0, r.guestlink.stderr);
    assert.equal(r.guestlink.stdout, r['qemu-ga'].stdout);
    assert.ok(tableRows(r.guestlink.stdout).some((row) => row.some((c) => c.includes('10.0.2.15/24'))));
  });

  test('domtime: same format, times within 5 s', async () => {
    const r = await both((d) => ['domtime', d]);
    assert.equal(r.guestlink.code, 0, r.guestlink.stderr);
    assert.equal(r['qemu-ga'].code, 0, r['qemu-ga'].stderr);
    const t = (s: string) => Number(/^Time: (\d+)$/m.exec(s)?.[1]);
    assert.ok(Math.abs(t(r.guestlink.stdout) - t(r['qemu-ga'].stdout)) <= 5, `${r.guestlink.stdout} vs ${r['qemu-ga'].stdout}`);
    assert.ok(Math.abs(t(r.guestlink.stdout) - Date.now() / 1000) <= 10);
  });

  test('domfsinfo: identical output', async () => {
    const r = await both((d) => ['domfsinfo', d]);
    assert.equal(r.guestlink.code, r['qemu-ga'].code);
    assert.equal(r.guestlink.code, 0, r.guestlink.stderr);
    assert.equal(r.guestlink.stdout, r['qemu-ga'].stdout);
    assert.ok(
      tableRows(r.guestlink.stdout).some((row) => row[0] === '/mnt/data' && row[2] === 'ext4'),
      r.guestlink.stdout,
    );
  });

  test('domfsfreeze + domfsthaw: the same count on both (the ext4 disk)', async () => {
    const fr = await both((d) => ['domfsfreeze', d]);
    const th = await both((d) => ['domfsthaw', d]);
    assert.equal(fr.guestlink.code, 0, fr.guestlink.stderr);
    assert.equal(th.guestlink.code, 0, th.guestlink.stderr);
    assert.equal(fr.guestlink.stdout, fr['qemu-ga'].stdout);
    assert.equal(th.guestlink.stdout, th['qemu-ga'].stdout);
    assert.match(fr.guestlink.stdout, /Froze 1 filesystem\(s\)/);
    assert.match(th.guestlink.stdout, /Thawed 1 filesystem\(s\)/);
  });

  test('domhostname --source agent: identical output', async () => {
    const r = await both((d) => ['domhostname', d, '--source', 'agent']);
    assert.equal(r.guestlink.code, 0, r.guestlink.stderr);
    assert.equal(r.guestlink.stdout, r['qemu-ga'].stdout);
    assert.equal(r.guestlink.stdout.trim(), 'gl-guest');
  });

  test('guestvcpus: identical output', async () => {
    const r = await both((d) => ['guestvcpus', d]);
    assert.equal(r.guestlink.code, 0, r.guestlink.stderr);
    assert.equal(r.guestlink.stdout, r['qemu-ga'].stdout);
    assert.equal(keyValues(r.guestlink.stdout).get('online'), '0-1');
  });

  test('the guestlink CLI through libvirt: (real virsh) ping, osinfo, ips, exec, and a fleet over a domain glob', async () => {
    const cli = (args: string[]) => runCli(['-c', LIBVIRT_URI, ...args], { timeoutMs: 60_000 });
    for (const kind of KINDS) {
      const p = await cli(['ping', `libvirt:${dom[kind]}`]);
      assert.equal(p.status, 0, `${kind}: ${p.stderr}`);
      const ips = await cli(['ips', `libvirt:${dom[kind]}`]);
      assert.match(ips.stdout, /10\.0\.2\.15\/24/, kind);
      const os = await cli(['osinfo', `libvirt:${dom[kind]}`, '-o', 'json']);
      assert.equal(os.status, 0, os.stderr);
      assert.ok(JSON.parse(os.stdout)['kernel-release'], kind);
    }
    // qemu-ga allows guest-exec; the guestlink agent here was started without --allow-exec.
    const e = await cli(['exec', `libvirt:${dom['qemu-ga']}`, '--', '/bin/cat', '/proc/sys/kernel/hostname']);
    assert.equal(e.status, 0, e.stderr);
    assert.equal(e.stdout, 'gl-guest\n');
    const denied = await cli(['exec', `libvirt:${dom.guestlink}`, '--', '/bin/true']);
    assert.equal(denied.status, 255);
    assert.match(denied.stderr, /has been disabled|not allowed/);
    const fleet = await cli(['ping', `libvirt:gl-e2e-*-${process.pid}`, '-o', 'json']);
    assert.equal(fleet.status, 0, fleet.stderr);
    assert.deepEqual(
      JSON.parse(fleet.stdout)
        .results.map((r: { vm: string }) => r.vm)
        .sort(),
      KINDS.map((k) => `libvirt:${dom[k]}`).sort(),
    );
  });

  test('reboot --mode agent: succeeds, the domain comes back and the agent answers again', async () => {
    const r = await both((d) => ['reboot', d, '--mode', 'agent']);
    assert.equal(r.guestlink.code, r['qemu-ga'].code, `${r.guestlink.stderr} / ${r['qemu-ga'].stderr}`);
    assert.equal(r.guestlink.code, 0, r.guestlink.stderr);
    // A reboot is seen as a second boot on the console; then the agent answers through libvirt again.
    const back = await Promise.all(KINDS.map((k) => waitAgent(dom[k], 180_000)));
    for (const kind of KINDS) {
      const boots = (
        execFileSync('cat', [consoles[kind]])
          .toString()
          .match(/GLVM: root mounted/g) ?? []
      ).length;
      assert.ok(boots >= 2, `${kind}: no second boot on the console`);
      assert.match((await virshRaw(['domstate', dom[kind]])).stdout, /running/);
    }
    console.log(`# reboot --mode agent: agent answering again after ${back.map((ms) => (ms / 1000).toFixed(1)).join(' s / ')} s`);
  });

  /**
   * libvirt's own race at an agent shutdown (src/qemu/qemu_agent.c qemuAgentSend): QEMU's SHUTDOWN event
   * finishes the waiting guest-shutdown (qemuAgentNotifyEvent ... event=1 await_event=1), and when QEMU exits
   * ~10 ms later the channel's EOF sets the agent's lastError; a waiting thread that has not woken by then
   * returns that error ("End of file from agent socket") although the guest did shut down. Seen once with
   * guestlink (CI, 2026-12-03, 12 ms between the two in libvirtd's log) and possible for any agent: the EOF
   * comes from QEMU exiting, not from the agent. True when r failed that way after its agent's event.
   */
  function libvirtShutdownEofRace(r: Result): boolean {
    if (r.code === 0 || !/End of file from agent socket/.test(r.stderr)) return false;
    const log = agentLog();
    for (let i = log.length - 1; i >= 0; i--) {
      const agent = /qemuAgentNotifyEvent:\d+ : agent=(0x[0-9a-f]+) event=1 await_event=1/.exec(log[i] ?? '')?.[1];
      if (!agent) continue;
      const eof = log.findIndex((l, j) => j > i && /End of file from agent socket/.test(l));
      if (eof > i && log.some((l, j) => j > eof && l.includes(`qemuAgentClose`) && l.includes(`agent=${agent}`))) return true;
    }
    return false;
  }

  test('shutdown --mode agent: succeeds and the transient domain goes away', async (t) => {
    const r = await both((d) => ['shutdown', d, '--mode', 'agent']);
    // Should it fail other than by libvirt's race above, the message carries libvirtd's agent log.
    const why = (k: Kind) => `${r[k].stderr}\n${r[k].code === 0 ? '' : agentLogTail()}`;
    for (const kind of KINDS) {
      if (libvirtShutdownEofRace(r[kind])) t.diagnostic(`${kind}: libvirt's EOF-after-SHUTDOWN race (its error, the guest did shut down)`);
      else assert.equal(r[kind].code, 0, why(kind));
    }
    for (const kind of KINDS) {
      const deadline = Date.now() + 60_000;
      let state = await virshRaw(['domstate', dom[kind]]);
      while (state.code === 0 && Date.now() < deadline) {
        await sleep(250);
        state = await virshRaw(['domstate', dom[kind]]);
      }
      assert.notEqual(state.code, 0, `${kind}: the domain is still there (${state.stdout.trim()})`);
      assert.match(state.stderr, /failed to get domain|not found/i);
      dom[kind] = '';
    }
  });
});
