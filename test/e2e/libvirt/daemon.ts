// Real libvirt for the e2e tests, started by hand (these machines have no systemd): virtlogd and
// libvirtd with a libvirtd.conf of our own, and a transient type='qemu' (TCG) domain that boots the
// test kernel and initramfs with the agent channel. Only processes started here are stopped here.
import { execFile, execFileSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);
export const LIBVIRT_URI = 'qemu:///system';
const QEMU_CONF = '/etc/libvirt/qemu.conf';
const MARK_BEGIN = '# BEGIN guestlink-e2e';

/** Why libvirt cannot be used here, or undefined. */
export function libvirtUnavailableReason(): string | undefined {
  for (const bin of ['/usr/sbin/libvirtd', '/usr/sbin/virtlogd', '/usr/bin/virsh']) {
    if (!existsSync(bin)) return `libvirt e2e tests skipped: ${bin} missing (apt-get install libvirt-daemon-system libvirt-clients)`;
  }
  if (process.getuid?.() !== 0) return 'libvirt e2e tests skipped: they start libvirtd in system mode, which needs root';
  return undefined;
}

/**
 * qemu.conf for a machine without systemd or cgroups: QEMU runs as root without a security driver,
 * so it can read the host root shared over 9p. Added once, as a marked block, and left in place.
 */
export function ensureQemuConf(): boolean {
  const text = readFileSync(QEMU_CONF, 'utf8');
  if (text.includes(MARK_BEGIN)) return false;
  writeFileSync(
    QEMU_CONF,
    `${text}\n${MARK_BEGIN} (test/e2e/libvirt/daemon.ts: no systemd, no cgroups here)\nuser = "root"\ngroup = "root"\ndynamic_ownership = 0\nremember_owner = 0\nsecurity_driver = "none"\ncgroup_controllers = [ ]\nnamespaces = [ ]\nstdio_handler = "file"\n# END guestlink-e2e\n`,
  );
  return true;
}

/** Runs virsh against the system URI; rejects with its stderr on failure. */
export async function virsh(args: string[], timeoutMs = 120_000): Promise<string> {
  try {
    const { stdout } = await run('virsh', ['-c', LIBVIRT_URI, ...args], { timeout: timeoutMs, maxBuffer: 16 << 20 });
    return stdout;
  } catch (err) {
    const e = err as { stderr?: string; message: string };
    throw new Error(`virsh ${args.join(' ')}: ${(e.stderr ?? e.message).trim()}`);
  }
}

function alive(pidFile: string, comm: string): number | undefined {
  try {
    const pid = Number(readFileSync(pidFile, 'utf8').trim());
    return readFileSync(`/proc/${pid}/comm`, 'utf8').trim() === comm ? pid : undefined;
  } catch {
    return undefined;
  }
}

export interface Daemons {
  /** The libvirtd debug log with every QGA command libvirt sent and every reply. */
  debugLog: string;
  stop(): Promise<void>;
}

/** Starts virtlogd and libvirtd (unless a libvirtd is already serving, which is then used and left alone). */
export async function startDaemons(dir: string): Promise<Daemons> {
  ensureQemuConf();
  const conf = path.join(dir, 'libvirtd.conf');
  const debugLog = path.join(dir, 'libvirtd-debug.log');
  writeFileSync(conf, `log_filters="1:qemu.qemu_agent 3:qemu 4:*"\nlog_outputs="1:file:${debugLog}"\n`);
  const ours: [string, string][] = [];
  const vlPid = path.join(dir, 'virtlogd.pid');
  const ldPid = path.join(dir, 'libvirtd.pid');
  let serving = false;
  try {
    execFileSync('virsh', ['-c', LIBVIRT_URI, 'version'], { stdio: 'ignore', timeout: 5000 });
    serving = true;
  } catch {}
  if (!serving) {
    execFileSync('virtlogd', ['-d', '-p', vlPid], { stdio: 'ignore' });
    ours.push([vlPid, 'virtlogd']);
    execFileSync('libvirtd', ['-d', '-f', conf, '-p', ldPid], { stdio: 'ignore' });
    ours.push([ldPid, 'libvirtd']);
    const deadline = Date.now() + 30_000;
    for (;;) {
      try {
        await virsh(['version'], 5000);
        break;
      } catch (err) {
        if (Date.now() > deadline) throw err;
        await new Promise((r) => setTimeout(r, 200));
      }
    }
  }
  return {
    debugLog,
    stop: async () => {
      for (const [pidFile, comm] of ours.reverse()) {
        const pid = alive(pidFile, comm);
        if (pid === undefined) continue;
        process.kill(pid, 'SIGTERM');
        for (let i = 0; i < 100 && alive(pidFile, comm) !== undefined; i++) await new Promise((r) => setTimeout(r, 100));
      }
    },
  };
}

export interface DomainSpec {
  name: string;
  kernel: string;
  initrd: string;
  cmdline: string;
  consolePath: string;
  memoryMb?: number;
  /** A raw disk image attached as virtio-blk (guest /dev/vda). */
  disk?: string;
  /** The NIC's MAC address (libvirt picks a random one otherwise). */
  mac?: string;
}

/** The domain XML: TCG, the host root over 9p read-only, the QGA channel libvirt connects to itself. */
export function domainXml(d: DomainSpec): string {
  const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/'/g, '&apos;');
  return `<domain type='qemu'>
  <name>${esc(d.name)}</name>
  <memory unit='MiB'>${d.memoryMb ?? 768}</memory>
  <vcpu>2</vcpu>
  <os>
    <type arch='x86_64' machine='q35'>hvm</type>
    <kernel>${esc(d.kernel)}</kernel>
    <initrd>${esc(d.initrd)}</initrd>
    <cmdline>${esc(d.cmdline)}</cmdline>
  </os>
  <features><acpi/></features>
  <cpu mode='maximum' check='none'/>
  <on_poweroff>destroy</on_poweroff>
  <on_reboot>restart</on_reboot>
  <on_crash>destroy</on_crash>
  <devices>
    <emulator>/usr/bin/qemu-system-x86_64</emulator>
    <filesystem type='mount' accessmode='squash' multidevs='remap'>
      <source dir='/'/>
      <target dir='hostroot'/>
      <readonly/>
    </filesystem>
    <channel type='unix'>
      <source mode='bind'/>
      <target type='virtio' name='org.qemu.guest_agent.0'/>
    </channel>
${d.disk ? `    <disk type='file' device='disk'><driver name='qemu' type='raw' discard='unmap'/><source file='${esc(d.disk)}'/><target dev='vda' bus='virtio'/></disk>\n` : ''}    <interface type='user'>${d.mac ? `<mac address='${esc(d.mac)}'/>` : ''}<model type='virtio'/></interface>
    <serial type='file'><source path='${esc(d.consolePath)}' append='off'/><target port='0'/></serial>
    <memballoon model='none'/>
  </devices>
</domain>
`;
}
