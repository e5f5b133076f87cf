// What differs between the VM harness's two guest architectures. x86_64 is the host's own: its kernel
// in /boot, its busybox, QEMU's q35 machine. aarch64 is QEMU's `virt` board under TCG with Debian's
// arm64 kernel and busybox-static, which scripts/setup-apt.sh unpacks under /opt/guestlink-lab/arm64
// (neither can be installed beside the amd64 ones: see that script). Direct -kernel/-initrd boot needs
// no firmware on either. The guest sees the host's / over 9p either way; an aarch64 guest finds the
// arm64 glibc there (the host's multiarch libc6:arm64) for the arm64 executable, but none of the
// host's programs run in it, so its init gives the guest command busybox's shell and applets
// (build-initramfs.sh, FOREIGN_ROOT).
import { accessSync, constants, existsSync, readdirSync } from 'node:fs';
import path from 'node:path';

export type VmArch = 'x86_64' | 'aarch64';

/**
 * Where scripts/setup-apt.sh unpacks the packages of other architectures (`unpack NAME:ARCH` lines);
 * GUESTLINK_LAB_DIR moves it, for that script and this harness alike.
 */
export const LAB_DIR = process.env.GUESTLINK_LAB_DIR ?? '/opt/guestlink-lab';

/** How to boot a guest of one architecture. */
export interface ArchProfile {
  arch: VmArch;
  /** The QEMU system emulator and the Debian package that has it. */
  qemu: string;
  qemuPackage: string;
  /** The tree the kernel (boot/vmlinuz-V), its modules (lib/modules/V) and busybox come from. */
  root: string;
  /** True when the guest cannot run the host's programs (build-initramfs.sh's FOREIGN_ROOT). */
  foreign: boolean;
  /** -machine/-accel/-cpu. */
  machineArgs: string[];
  /** The kernel's console device for `-serial file:` (the first UART of the machine). */
  console: string;
  /** Kernel command-line words for the guest's clock. */
  clockArgs: string[];
  /** Whether the machine has an ISA bus for `-serial` ports beyond the console (VmOptions.isaSerial). */
  isaSerial: boolean;
}

export const ARCHES: Record<VmArch, ArchProfile> = {
  x86_64: {
    arch: 'x86_64',
    qemu: 'qemu-system-x86_64',
    qemuPackage: 'qemu-system-x86',
    root: '/',
    foreign: false,
    machineArgs: ['-machine', 'q35', '-accel', 'tcg', '-cpu', 'max'],
    console: 'ttyS0',
    // TCG offers only hpet/acpi_pm, where every clock read is an emulated MMIO access (~1 ms of CPU
    // per Node timer tick); real KVM guests read kvm-clock through the vDSO. The TSC is close to that.
    clockArgs: ['clocksource=tsc', 'tsc=reliable'],
    isaSerial: true,
  },
  aarch64: {
    arch: 'aarch64',
    qemu: 'qemu-system-aarch64',
    qemuPackage: 'qemu-system-arm',
    root: path.join(LAB_DIR, 'arm64'),
    foreign: true,
    // cortex-a72 (ARMv8.0-A, enough for Node's arm64 build) rather than `max`: max adds pointer
    // authentication, which TCG emulates with the QARMA cipher on every signed return. Boot to the
    // agent answering, measured here (2 shared cores): max 21.7 s, max,pauth-impdef=on 9.3 s,
    // cortex-a72 8.4-10.5 s.
    machineArgs: ['-machine', 'virt', '-accel', 'tcg', '-cpu', 'cortex-a72'],
    console: 'ttyAMA0',
    // The generic timer (arch_timer) is read through the vDSO under TCG too: nothing to choose.
    clockArgs: [],
    isaSerial: false,
  },
};

/** The architecture of the VM harness's default guest: the host's (x86_64 here). */
export const HOST_VM_ARCH: VmArch = process.arch === 'arm64' ? 'aarch64' : 'x86_64';

export function onPath(cmd: string): string | undefined {
  for (const dir of (process.env.PATH ?? '/usr/bin:/bin').split(':')) {
    const p = path.join(dir, cmd);
    try {
      accessSync(p, constants.X_OK);
      return p;
    } catch {}
  }
  return undefined;
}

/**
 * The newest kernel of the profile's tree that has its modules. On the host's own tree, a kernel of
 * another architecture (a Debian flavour ending in arm64, should one be installed in /boot) is never
 * taken for the host's.
 */
export function newestKernel(p: ArchProfile): { version: string; image: string } | undefined {
  let names: string[];
  try {
    names = readdirSync(path.join(p.root, 'boot')).filter((n) => n.startsWith('vmlinuz-'));
  } catch {
    return undefined;
  }
  const foreignFlavour = p.arch === 'x86_64' ? /-arm64$/ : /-(amd64|686|686-pae)$/;
  const versions = names
    .map((n) => n.slice('vmlinuz-'.length))
    .filter((v) => !foreignFlavour.test(v) && existsSync(path.join(p.root, 'lib/modules', v, 'kernel')))
    .sort((a, b) => b.localeCompare(a, undefined, { numeric: true }));
  const version = versions[0];
  return version ? { version, image: path.join(p.root, 'boot', `vmlinuz-${version}`) } : undefined;
}

/** What is missing to boot this architecture's guest here (empty: nothing). */
export function missingFor(p: ArchProfile): string[] {
  const missing: string[] = [];
  if (!onPath(p.qemu)) missing.push(`${p.qemu} (apt-get install ${p.qemuPackage})`);
  if (!onPath('cpio') || !onPath('modprobe')) missing.push('cpio and modprobe (apt-get install cpio kmod)');
  if (!p.foreign) {
    if (!onPath('busybox')) missing.push('busybox (apt-get install busybox-static)');
    if (!newestKernel(p)) missing.push('a kernel in /boot with /lib/modules (apt-get install linux-image-amd64)');
    return missing;
  }
  if (!newestKernel(p) || !existsSync(path.join(p.root, 'bin/busybox')))
    missing.push(`the ${p.arch} kernel, modules and busybox under ${p.root} (bash scripts/setup-apt.sh: unpack lines)`);
  if (p.arch === 'aarch64' && !existsSync('/lib/ld-linux-aarch64.so.1'))
    missing.push(
      'the arm64 glibc the guest takes from the host tree (apt-get install libstdc++6:arm64 after dpkg --add-architecture arm64)',
    );
  return missing;
}
