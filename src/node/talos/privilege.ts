// Least privilege, checked at start-up: os:operator is enough for every call the agent makes
// (Reboot and Shutdown need operator or admin; the reads need reader). Warnings, not refusals:
// an operator may have reasons, but must be told what the agent holds and who else can take it.
import { parseMountinfo } from '../linux/mountinfo.js';

export interface PrivilegeFacts {
  /** The roles the agent's credentials carry (certificate Organization, or the claimed talos-role). */
  roles: readonly string[];
  /** Where the roles come from, for the texts. */
  source: string;
  /** The talosconfig file, in DaemonSet mode. */
  file?: { path: string; mode: number; mount?: { mountpoint: string; type: string } };
}

/**
 * Filesystems private to one pod: Kubernetes Secret and projected volumes are tmpfs mounts made
 * for the pod alone. Anything else (a hostPath on the node's disk, an emptyDir on /var, an NFS or
 * overlay path) can be read by the node or by other pods that mount the same place.
 */
const PRIVATE_FS = new Set(['tmpfs', 'ramfs']);

/** What the agent was asked to do besides power and reads (roles some calls need on top). */
export interface PrivilegeNeeds {
  /** --etcd-snapshot-dir is set: EtcdSnapshot needs os:etcd:backup, os:operator or os:admin. */
  etcdSnapshots?: boolean;
}

export function privilegeWarnings(f: PrivilegeFacts, needs: PrivilegeNeeds = {}): string[] {
  const out: string[] = [];
  if (needs.etcdSnapshots && !f.roles.some((r) => r === 'os:operator' || r === 'os:etcd:backup' || r === 'os:admin'))
    out.push(
      `Talos credentials (${f.source}) carry ${f.roles.length ? f.roles.join(', ') : 'no role'}: Talos will refuse EtcdSnapshot, so no etcd snapshot will be taken at a freeze (it needs os:etcd:backup or os:operator)`,
    );
  if (f.roles.includes('os:admin'))
    out.push(
      `Talos credentials (${f.source}) carry os:admin; guestlink needs only os:operator: issue credentials with roles [os:operator] (ServiceAccount spec.roles, talosctl config new --roles os:operator, or --talos-role os:operator)`,
    );
  else if (!f.roles.includes('os:operator'))
    out.push(
      `Talos credentials (${f.source}) carry ${f.roles.length ? f.roles.join(', ') : 'no role'}: Talos will refuse guest-shutdown (Reboot/Shutdown need os:operator)`,
    );
  if (f.file) {
    const { path, mode, mount } = f.file;
    if ((mode & 0o077) !== 0)
      out.push(
        `talosconfig ${path} is readable or writable by group/others (mode ${(mode & 0o777).toString(8).padStart(4, '0')}): set the Secret volume's defaultMode to 0400`,
      );
    if (mount && !PRIVATE_FS.has(mount.type))
      out.push(
        `talosconfig ${path} is on a ${mount.type} mount (${mount.mountpoint}) that the node and other pods can read: mount it from a Kubernetes Secret volume (tmpfs, private to this pod)`,
      );
  }
  return out;
}

/** The mount holding `file` (longest mount-point prefix of its real path) from mountinfo text. */
export function mountOf(realPath: string, mountinfo: string): { mountpoint: string; type: string } | undefined {
  let best: { mountpoint: string; type: string } | undefined;
  for (const m of parseMountinfo(mountinfo)) {
    const mp = m.mountpoint;
    const inside = mp === '/' || realPath === mp || realPath.startsWith(`${mp}/`);
    // Later entries over the same mount point shadow earlier ones, hence >=.
    if (inside && (!best || mp.length >= best.mountpoint.length)) best = { mountpoint: mp, type: m.type };
  }
  return best;
}
