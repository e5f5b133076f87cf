// The two OS names vSphere shows: the full one (SetGuestInfo 5, the "Guest OS" text) and the short one
// (SetGuestInfo 6), which the VMX matches against its guest OS identifiers. open-vm-tools derives the
// short name from the distribution (debian12-64, ubuntu-64, ...) and falls back to "other<N>xlinux"
// from the kernel's major version; the few distributions below are the ones node images use, the
// rest (Talos, Flatcar, KubeSolo on Alpine) get the generic Linux name, which vSphere accepts.
import type { OsInfo } from '../../node/interfaces.js';

export function fullOsName(os: OsInfo): string {
  return os.prettyName ?? ([os.name, os.version].filter(Boolean).join(' ') || `Linux ${os.kernelRelease ?? ''}`.trim());
}

export function shortOsName(os: OsInfo): string {
  const bits64 = /64/.test(os.machine ?? 'x86_64') ? '-64' : '';
  const major = Number.parseInt((os.versionId ?? '').split('.')[0] ?? '', 10);
  switch (os.id) {
    case 'debian':
      if (major >= 4) return `debian${major}${bits64}`;
      break;
    case 'ubuntu':
      return `ubuntu${bits64}`;
    case 'rhel':
      if (major >= 2) return `rhel${major}${bits64}`;
      break;
    case 'centos':
      if (major >= 4) return `centos${major}${bits64}`;
      break;
  }
  const kmajor = Number.parseInt((os.kernelRelease ?? '').split('.')[0] ?? '', 10);
  return Number.isFinite(kmajor) && kmajor >= 2 ? `other${kmajor}xlinux${bits64}` : `otherlinux${bits64}`;
}
