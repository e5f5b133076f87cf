// Power back ends for generic Linux, chosen automatically or by --power:
// - logind: systemd-logind's PowerOff/Reboot/Halt over D-Bus through busctl (part of systemd, so no
//   D-Bus library is needed). logind waits for "delay" inhibitors such as kubelet's graceful node
//   shutdown lock (up to InhibitDelayMaxSec), so pods get their termination grace period.
// - openrc: the init's own poweroff/reboot/halt commands (Alpine/OpenRC with busybox init, KubeSolo);
//   init runs the shutdown runlevel, so services stop cleanly.
// - shutdown-command: what qemu-ga does, `shutdown -h -P|-H|-r +0 "hypervisor initiated shutdown"`.
// - syscall: sync(2) then reboot(2) through the native addon: the last resort when no init will act
//   (for example a minimal initramfs); nothing is stopped cleanly.
// No shell is ever involved.
import { accessSync, constants, existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { loadNative } from '../../native/addon.js';
import { genericError } from '../../protocol/qga/errors.js';
import type { Power, ShutdownMode, SuspendMode } from '../interfaces.js';
import { type CommandResult, runCommand } from './run-command.js';

export type LinuxPowerKind = 'logind' | 'openrc' | 'shutdown-command' | 'syscall';

export interface PowerDeps {
  /** Runs a program (tests pass a recorder; never a real power action in tests). */
  run?: (file: string, args: readonly string[]) => Promise<CommandResult>;
  /** Finds an executable by name; returns its absolute path. */
  which?: (name: string) => string | undefined;
  /** sync(2) + reboot(2) for the syscall back end. */
  rebootSyscall?: (mode: ShutdownMode) => Promise<void>;
}

const DIRS = ['/sbin', '/usr/sbin', '/bin', '/usr/bin'];

/** Finds an executable in the system directories (not $PATH: the agent's PATH may be minimal). */
export function whichSystem(name: string, root = '/'): string | undefined {
  for (const dir of DIRS) {
    const p = path.join(root, dir, name);
    try {
      accessSync(p, constants.X_OK);
      return path.join(dir, name);
    } catch {}
  }
  return undefined;
}

/** Picks the back end the running system supports: logind, then OpenRC/busybox init, then the syscall. */
export function detectPowerKind(root = '/', which: (n: string) => string | undefined = (n) => whichSystem(n, root)): LinuxPowerKind {
  if (existsSync(path.join(root, 'run/systemd/system')) && which('busctl')) return 'logind';
  if ((existsSync(path.join(root, 'run/openrc')) || which('openrc')) && which('poweroff')) return 'openrc';
  if (which('shutdown')) return 'shutdown-command';
  if (which('poweroff') && existsSync(path.join(root, 'etc/inittab'))) return 'openrc';
  return 'syscall';
}

const LOGIND_METHOD: Record<ShutdownMode, string> = { powerdown: 'PowerOff', reboot: 'Reboot', halt: 'Halt' };
const INIT_COMMAND: Record<ShutdownMode, string> = { powerdown: 'poweroff', reboot: 'reboot', halt: 'halt' };

function failed(what: string, r: CommandResult) {
  const detail = (r.stderr || r.stdout).trim().split('\n')[0] || (r.signal ? `killed by ${r.signal}` : `exit code ${r.code}`);
  return genericError(`${what} failed: ${detail}`, 'POWER_FAILED');
}

/** A Linux power back end of the given kind. */
export class LinuxPower implements Power {
  readonly name: string;
  private readonly run: NonNullable<PowerDeps['run']>;
  private readonly which: NonNullable<PowerDeps['which']>;

  constructor(
    readonly kind: LinuxPowerKind,
    private readonly deps: PowerDeps = {},
  ) {
    this.name = kind;
    this.run = deps.run ?? ((f, a) => runCommand(f, a, { timeoutMs: 120_000 }));
    this.which = deps.which ?? ((n) => whichSystem(n));
  }

  async shutdown(mode: ShutdownMode): Promise<void> {
    switch (this.kind) {
      case 'logind': {
        const busctl = this.need('busctl');
        const method = LOGIND_METHOD[mode];
        const r = await this.run(busctl, [
          'call',
          'org.freedesktop.login1',
          '/org/freedesktop/login1',
          'org.freedesktop.login1.Manager',
          method,
          'b',
          'false',
        ]);
        if (r.code !== 0) throw failed(`logind ${method}`, r);
        return;
      }
      case 'openrc': {
        const tool = this.need(INIT_COMMAND[mode]);
        const r = await this.run(tool, []);
        if (r.code !== 0) throw failed(INIT_COMMAND[mode], r);
        return;
      }
      case 'shutdown-command': {
        const shutdown = this.need('shutdown');
        const flag = mode === 'halt' ? '-H' : mode === 'reboot' ? '-r' : '-P';
        const r = await this.run(shutdown, ['-h', flag, '+0', 'hypervisor initiated shutdown']);
        // qemu-ga's text for a failing shutdown(8).
        if (r.code !== 0) throw genericError('child process has failed to shutdown', 'POWER_FAILED');
        return;
      }
      case 'syscall': {
        if (!this.deps.rebootSyscall)
          throw genericError(
            'the reboot(2) back end needs the native addon (build/Release/guestlink.node), which is not available',
            'POWER_UNAVAILABLE',
          );
        return this.deps.rebootSyscall(mode);
      }
    }
  }

  async suspend(mode: SuspendMode): Promise<void> {
    throw genericError(
      `guest-suspend-${mode} is not supported by guestlink: a Kubernetes node cannot keep its leases while suspended; shut it down instead`,
      'UNSUPPORTED',
    );
  }

  private need(name: string): string {
    const p = this.which(name);
    if (!p)
      throw genericError(
        `${name} was not found in /sbin, /usr/sbin, /bin or /usr/bin: choose another --power back end`,
        'POWER_UNAVAILABLE',
      );
    return p;
  }
}

/** CAP_SYS_BOOT in this process's effective set (/proc/self/status CapEff, bit 22); undefined if unknown. */
function hasCapSysBoot(): boolean | undefined {
  try {
    const hex = /^CapEff:\s*([0-9a-f]+)$/m.exec(readFileSync('/proc/self/status', 'utf8'))?.[1];
    return hex === undefined ? undefined : (BigInt(`0x${hex}`) & (1n << 22n)) !== 0n;
  } catch {
    return undefined;
  }
}

/**
 * sync(2) then reboot(2) through the native addon, or undefined when the addon is not built.
 * beforeReboot runs just before (the agent hangs up its channel): with an init, the agent is stopped
 * before the machine goes down and the host sees it leave the port; libvirt ends a guest-shutdown on
 * that (or on QEMU's SHUTDOWN event), and when neither came before its agent socket hung up at power-off
 * it failed `virsh shutdown --mode agent` with "End of file from agent socket" though the domain did shut
 * down (1 run in ~10 of test/e2e/libvirt). A missing CAP_SYS_BOOT is refused before hanging up, so the
 * host gets that error; a reboot(2) that fails afterwards is logged by the caller, its reply has no one
 * to go to, and the channel is back a second later.
 */
export function nativeRebootSyscall(beforeReboot?: () => void): PowerDeps['rebootSyscall'] {
  const native = loadNative();
  if (!native) return undefined;
  const cmd: Record<ShutdownMode, number> = {
    powerdown: native.LINUX_REBOOT_CMD_POWER_OFF,
    reboot: native.LINUX_REBOOT_CMD_RESTART,
    halt: native.LINUX_REBOOT_CMD_HALT,
  };
  return async (mode) => {
    if (hasCapSysBoot() === false)
      throw genericError('reboot(2) needs CAP_SYS_BOOT, which the agent does not have: choose another --power back end', 'POWER_FAILED');
    // Let the caller's log line and the host see the request go out before the machine stops.
    await new Promise((r) => setTimeout(r, 100));
    if (beforeReboot) {
      beforeReboot();
      // Time for the driver's notice to reach QEMU and the host to act on it (~ms; TCG and load: more).
      await new Promise((r) => setTimeout(r, 300));
    }
    try {
      native.reboot(cmd[mode]);
    } catch (err) {
      throw genericError(`reboot(2) failed: ${(err as Error).message}`, 'POWER_FAILED');
    }
  };
}
