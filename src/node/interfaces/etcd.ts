// etcd snapshots of a control-plane node (before every freeze, and on demand).
// One of the node interfaces (node/interfaces.ts re-exports them all).

/** One etcd snapshot on disk, verified: etcd's database followed by the sha256 etcd appends to it. */
export interface EtcdSnapshot {
  path: string;
  /** The etcd revision the snapshot holds (the highest key revision in its database). */
  revision: number;
  /** Bytes of the file, the appended 32-byte digest included. */
  size: number;
  /** SHA-256 of the whole file, hex (what a copy of it must hash to). */
  sha256: string;
  /** When it was taken, ISO 8601 UTC. */
  takenAt: string;
  /** From the request to the file being fsynced, verified and in place. */
  durationMs: number;
}

/** What the last snapshot attempt came to, for guestlink-etcd-snapshot-status and events. */
export interface EtcdSnapshotOutcome {
  trigger: 'freeze' | 'command';
  /** When the attempt ended, ISO 8601 UTC. */
  at: string;
  snapshot?: EtcdSnapshot;
  /** Why it failed (absent on success). */
  error?: string;
  /** The failure's stable code (ETCD_UNREACHABLE, ETCD_SNAPSHOT_TIMEOUT, ...). */
  code?: string;
}

/**
 * etcd snapshots of this node's etcd member, kept in one directory (control-plane nodes only; a
 * back end without etcd leaves NodeBackend.etcdSnapshots absent). The freeze takes one before it
 * freezes; guestlink-etcd-snapshot takes one on demand.
 */
export interface EtcdSnapshots {
  /** The directory the snapshots are kept in (the last --etcd-snapshot-keep of them). */
  readonly dir: string;
  /** Where snapshots come from, for logs and errors ("Talos EtcdSnapshot", "etcd https://127.0.0.1:2379"). */
  readonly source: string;
  /**
   * Takes one, bounded by its own timeout: streamed to a temporary file, fsynced, its digest and
   * database checked, renamed into place, older ones rotated out. Rejects with an Error whose
   * `code` says why (and whose message says what to do); a request while one is under way joins it.
   */
  take(trigger: 'freeze' | 'command'): Promise<EtcdSnapshot>;
  /** The outcome of the last attempt since the agent started, if any. */
  last(): EtcdSnapshotOutcome | undefined;
}
