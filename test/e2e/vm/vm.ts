// Boots a throwaway QEMU VM (TCG) that runs our agent from this checkout on a real virtio-serial port.
// The guest sees the host's / read-only over 9p (with a tmpfs overlay), so no image is built but the
// initramfs (cached by the hash of its build script). QGA, QMP and the probe port are unix sockets.
// The guest is x86_64 (q35) unless VmOptions.arch asks for aarch64 (virt): see arch.ts.
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { ARCHES, HOST_VM_ARCH, missingFor, newestKernel, onPath, type VmArch } from './arch.js';
import { LineClient } from './line-client.js';
import { type QgaConnection, waitForAgent } from './qga.js';
import { QmpClient } from './qmp.js';

/** The checkout's root (this file is dist/test/e2e/vm/vm.js once compiled). */
export const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../..');
const BUILD_SCRIPT = path.join(REPO_ROOT, 'test/e2e/vm/build-initramfs.sh');

/** Why the VM cannot run here (tests skip with this text), or undefined when it can. */
export function vmUnavailableReason(arch: VmArch = HOST_VM_ARCH): string | undefined {
  const missing = missingFor(ARCHES[arch]);
  if (!existsSync(path.join(REPO_ROOT, 'dist/src/agent/main.js'))) missing.push('the compiled agent (npx tsc -p .)');
  const what = arch === HOST_VM_ARCH ? 'VM' : `${arch} VM`;
  return missing.length > 0 ? `${what} e2e tests skipped: missing ${missing.join('; ')}` : undefined;
}

/** Builds the initramfs once per build-script content, architecture and kernel; later calls reuse the cached file. */
export function ensureInitramfs(
  cacheDir = path.join(REPO_ROOT, '.tmp/vm'),
  arch: VmArch = HOST_VM_ARCH,
): { kernel: string; initrd: string } {
  const p = ARCHES[arch];
  const k = newestKernel(p);
  if (!k) throw new Error(missingFor(p).join('; ') || `no ${arch} kernel with modules`);
  const hash = createHash('sha256').update(readFileSync(BUILD_SCRIPT)).update(arch).update(k.version).digest('hex').slice(0, 16);
  const initrd = path.join(cacheDir, `initramfs-${arch === HOST_VM_ARCH ? '' : `${arch}-`}${hash}.cpio.gz`);
  if (!existsSync(initrd)) {
    mkdirSync(cacheDir, { recursive: true });
    const args = [BUILD_SCRIPT, initrd, k.version, ...(p.foreign ? [p.root] : [])];
    execFileSync('sh', args, { stdio: ['ignore', 'ignore', 'inherit'] });
  }
  return { kernel: k.image, initrd };
}

export interface VmOptions {
  /** The guest's architecture (default the host's, x86_64 here); aarch64 boots QEMU's virt board. */
  arch?: VmArch;
  /** Guest shell command; default: our agent on the virtio-serial port with the dry-run power back end. */
  guestCommand?: string;
  /** Extra agent arguments appended to the default command. */
  agentArgs?: string[];
  /** Run this single executable (scripts/build-sea.mjs) as `EXE agent ...` instead of the checkout on the host's node. */
  executable?: string;
  /** Add an isa-serial port (guest /dev/ttyS1) whose host side is the unix socket `isaSocket`. */
  isaSerial?: boolean;
  memoryMb?: number;
  cpus?: number;
  /** How long to wait for the agent to answer guest-sync-delimited (TCG boots take 10-30 s). */
  readyTimeoutMs?: number;
  /** Skip waiting for the agent (for guest commands that are not an agent on the QGA port). */
  noWait?: boolean;
  /** Which host socket to wait on for the agent: the virtio-serial chardev (default) or the isa-serial one. */
  waitOn?: 'qga' | 'isa';
  extraQemuArgs?: string[];
  /** Extra kernel command-line words (the default adds clocksource=tsc, see bootVm). */
  kernelArgs?: string[];
  hostname?: string;
  /** Let a guest reboot restart the VM (QMP RESET) instead of ending QEMU: leaves out -no-reboot. */
  allowReboot?: boolean;
}

/** A running VM: its sockets, its QEMU pid, and how to stop it. */
export interface Vm {
  dir: string;
  qgaSocket: string;
  qmpSocket: string;
  probeSocket: string;
  isaSocket?: string;
  consolePath: string;
  pid: number;
  /** Host milliseconds from QEMU start until the agent answered guest-sync-delimited. */
  bootToReadyMs: number;
  /** The connection that saw the agent answer first (already synced); callers may close it. */
  firstConnection?: QgaConnection;
  console(): string;
  /** What QEMU wrote to stderr so far (why it stopped, when it did). */
  qemuStderr(): string;
  /** Asks the guest-side probe for the agent's fd count and CPU ticks (see build-initramfs.sh). */
  probe(): Promise<AgentStat>;
  /** Sends SIGTERM to the agent inside the guest; resolves with its stat, or undefined if it is gone already. */
  signalAgent(): Promise<AgentStat | undefined>;
  alive(): boolean;
  /** QMP quit, then SIGKILL by pid if needed; removes the sockets and the state dir. */
  stop(): Promise<void>;
}

/** The agent's resource use as the guest sees it. utime/stime are clock ticks (USER_HZ, 100 on Linux). */
export interface AgentStat {
  pid: number;
  fds: number;
  utime: number;
  stime: number;
  /** Guest /proc/uptime seconds when sampled. */
  uptime: number;
}

/**
 * The agent command the default VM runs (node from the host's PATH, seen through 9p, or the single
 * executable when given, or else when GUESTLINK_TEST_EXECUTABLE names one: test/executable/ runs the VM
 * suite that way); `exec` keeps the pid the probe watches.
 */
export function defaultAgentCommand(extra: string[] = [], executable = process.env.GUESTLINK_TEST_EXECUTABLE || undefined): string {
  const node = onPath('node') ?? process.execPath;
  const args = ['-m', 'virtio-serial', '--power', 'dry-run', '-t', '/run/gl', ...extra];
  const agent = executable ? `${executable} agent` : `${node} ${path.join(REPO_ROOT, 'bin/guestlink-agent.js')}`;
  return `mkdir -p /run/gl && exec ${agent} ${args.join(' ')}`;
}

/** The kernel command line the initramfs expects: the guest command base64-encoded in glcmd64 (libvirt domains use it too). */
export function kernelCmdline(command: string, opts: { hostname?: string; kernelArgs?: string[]; arch?: VmArch } = {}): string {
  const p = ARCHES[opts.arch ?? HOST_VM_ARCH];
  return [
    `console=${p.console}`,
    'panic=-1',
    'loglevel=4',
    `glhost=${opts.hostname ?? 'gl-guest'}`,
    ...p.clockArgs,
    ...(opts.kernelArgs ?? []),
    `glcmd64=${Buffer.from(command).toString('base64')}`,
  ].join(' ');
}

async function probeOnce(socketPath: string, request = 'stat'): Promise<AgentStat | undefined> {
  const c = await LineClient.connect(socketPath, 2000);
  try {
    c.write(`${request}\n`);
    const line = (await c.readLine(10000)).toString('utf8');
    const kv = Object.fromEntries(line.split(' ').map((w) => w.split('=') as [string, string]));
    if (!kv.pid) return undefined;
    return { pid: Number(kv.pid), fds: Number(kv.fds), utime: Number(kv.utime), stime: Number(kv.stime), uptime: Number(kv.uptime) };
  } finally {
    await c.close();
  }
}

async function waitExit(child: ChildProcess, ms: number): Promise<boolean> {
  if (child.exitCode !== null || child.signalCode !== null) return true;
  return new Promise((resolve) => {
    const t = setTimeout(() => resolve(false), ms);
    child.once('exit', () => {
      clearTimeout(t);
      resolve(true);
    });
  });
}

/** Boots the VM and waits until the agent answers on the QGA socket. */
export async function bootVm(opts: VmOptions = {}): Promise<Vm> {
  const arch = ARCHES[opts.arch ?? HOST_VM_ARCH];
  if (opts.isaSerial && !arch.isaSerial) throw new Error(`bootVm: the ${arch.arch} machine has no ISA serial port`);
  const { kernel, initrd } = ensureInitramfs(undefined, arch.arch);
  const dir = mkdtempSync(path.join(os.tmpdir(), 'glvm-'));
  const qgaSocket = path.join(dir, 'qga.sock');
  const qmpSocket = path.join(dir, 'qmp.sock');
  const probeSocket = path.join(dir, 'probe.sock');
  const isaSocket = opts.isaSerial ? path.join(dir, 'isa.sock') : undefined;
  const consolePath = path.join(dir, 'console.log');
  const command = opts.guestCommand ?? defaultAgentCommand(opts.agentArgs, opts.executable);
  const append = kernelCmdline(command, opts);
  const args = [
    ...[...arch.machineArgs, '-m', String(opts.memoryMb ?? 768), '-smp', String(opts.cpus ?? 2)],
    ...['-nodefaults', '-no-user-config', '-display', 'none', ...(opts.allowReboot ? [] : ['-no-reboot'])],
    ...['-kernel', kernel, '-initrd', initrd, '-append', append],
    ...['-serial', `file:${consolePath}`],
    ...(isaSocket ? ['-chardev', `socket,id=isa0,path=${isaSocket},server=on,wait=off`, '-serial', 'chardev:isa0'] : []),
    ...['-virtfs', 'local,path=/,mount_tag=hostroot,security_model=none,readonly=on,multidevs=remap'],
    ...['-device', 'virtio-serial-pci'],
    ...['-chardev', `socket,id=qga0,path=${qgaSocket},server=on,wait=off`],
    ...['-device', 'virtserialport,chardev=qga0,name=org.qemu.guest_agent.0'],
    ...['-chardev', `socket,id=probe0,path=${probeSocket},server=on,wait=off`],
    ...['-device', 'virtserialport,chardev=probe0,name=org.guestlink.probe'],
    ...['-qmp', `unix:${qmpSocket},server=on,wait=off`],
    ...['-netdev', 'user,id=n0', '-device', 'virtio-net-pci,netdev=n0'],
    ...(opts.extraQemuArgs ?? []),
  ];
  const t0 = performance.now();
  const child = spawn(arch.qemu, args, { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr?.on('data', (c: Buffer) => {
    stderr += c.toString();
  });
  const pid = child.pid;
  if (pid === undefined) throw new Error(`${arch.qemu} did not start`);
  const alive = () => child.exitCode === null && child.signalCode === null;
  const readConsole = () => {
    try {
      return readFileSync(consolePath, 'utf8');
    } catch {
      return '';
    }
  };
  let stopped = false;
  const stop = async () => {
    if (stopped) return;
    stopped = true;
    if (alive()) {
      try {
        const qmp = await QmpClient.connect(qmpSocket, 2000);
        await qmp.execute('quit').catch(() => {});
        await qmp.close();
      } catch {}
      if (!(await waitExit(child, 5000))) {
        process.kill(pid, 'SIGKILL');
        await waitExit(child, 5000);
      }
    }
    rmSync(dir, { recursive: true, force: true });
  };
  // The sockets appear once QEMU has parsed its arguments.
  const sockDeadline = Date.now() + 10000;
  while (!existsSync(qgaSocket) || !existsSync(qmpSocket)) {
    if (!alive() || Date.now() > sockDeadline) {
      await stop();
      throw new Error(`QEMU did not start: ${stderr.trim()}`);
    }
    await new Promise((r) => setTimeout(r, 20));
  }
  let firstConnection: QgaConnection | undefined;
  if (!opts.noWait) {
    try {
      const target = opts.waitOn === 'isa' && isaSocket ? isaSocket : qgaSocket;
      firstConnection = await waitForAgent(target, opts.readyTimeoutMs ?? 120000, alive);
    } catch (err) {
      const tail = readConsole().split('\n').slice(-30).join('\n');
      await stop();
      throw new Error(`${String(err)}\n--- guest console (tail) ---\n${tail}\n--- qemu stderr ---\n${stderr}`);
    }
  }
  const bootToReadyMs = performance.now() - t0;
  return {
    dir,
    qgaSocket,
    qmpSocket,
    probeSocket,
    ...(isaSocket ? { isaSocket } : {}),
    consolePath,
    pid,
    bootToReadyMs,
    ...(firstConnection ? { firstConnection } : {}),
    console: readConsole,
    qemuStderr: () => stderr,
    probe: async () => {
      const st = await probeOnce(probeSocket);
      if (!st) throw new Error('probe: the agent is not running');
      return st;
    },
    signalAgent: () => probeOnce(probeSocket, 'kill-TERM'),
    alive,
    stop,
  };
}
