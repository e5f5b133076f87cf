// The ways an etcd snapshot can fail, each with a stable code (logs, events, tests, the QGA error's
// origin) and a message that says what to do next.

/** The stable codes, one per way to fail (logs, Node events, guestlink-etcd-snapshot-status). */
export type EtcdSnapshotErrorCode =
  /** etcd (or the Talos API) could not be reached or refused the connection. */
  | 'ETCD_UNREACHABLE'
  /** The credentials were refused (TLS, role, etcd auth). */
  | 'ETCD_REFUSED'
  /** Not a control-plane node: there is no etcd member to snapshot. */
  | 'ETCD_NOT_CONTROL_PLANE'
  /** The whole step did not finish within --etcd-snapshot-timeout. */
  | 'ETCD_SNAPSHOT_TIMEOUT'
  /** The stream went past --etcd-snapshot-max-bytes. */
  | 'ETCD_SNAPSHOT_TOO_LARGE'
  /** Digest missing or wrong, truncated, or not an etcd database. */
  | 'ETCD_SNAPSHOT_CORRUPT'
  /** The snapshot directory's filesystem is full. */
  | 'ETCD_SNAPSHOT_NO_SPACE'
  /** The snapshot directory is unusable (a symlink, not ours, writable by others, not creatable). */
  | 'ETCD_SNAPSHOT_DIR'
  /** Anything else (an I/O error, an etcd error status). */
  | 'ETCD_SNAPSHOT_FAILED';

/** A failed etcd snapshot; `message` is meant for the hypervisor's log and the Node event. */
export class EtcdSnapshotError extends Error {
  constructor(
    readonly code: EtcdSnapshotErrorCode,
    message: string,
  ) {
    super(message);
    this.name = 'EtcdSnapshotError';
  }
}
