// guestlink etcd-snapshot: asks the agent for an etcd snapshot now (guestlink-etcd-snapshot, which
// it verifies itself), copies the file out with guest-file-read, and accepts the copy only when it
// hashes to the sha256 the agent reported AND etcd's own digest at its end matches its database.
// The local file appears under its final name only once both hold. A guest is not trusted to be
// honest about the file's name (only a snapshot-shaped name is used) or its length (the copy stops
// past the size it announced).
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { rename, rm, stat } from 'node:fs/promises';
import path from 'node:path';
import { isObject, type JsonValue } from '../protocol/qga/json-value.js';
import type { AgentConnection, CallOptions } from './connection.js';
import { ChecksumError, QgaRemoteError, UnsupportedError } from './errors.js';
import { download } from './files.js';

/** What the agent reports about the snapshot it took. */
export interface GuestEtcdSnapshot {
  path: string;
  revision: number;
  size: number;
  sha256: string;
  takenAt: string;
  source: string;
}

/** What a fetch produced: the guest's report and the checked local file. */
export interface FetchedEtcdSnapshot {
  guest: GuestEtcdSnapshot;
  /** The local file written. */
  file: string;
  bytes: number;
  ms: number;
}

/** The node has no etcd snapshots (a worker, or --etcd-snapshot-dir unset): fleet mode skips it; alone, exit 1. */
export class NoEtcdSnapshotsError extends QgaRemoteError {
  constructor(readonly reason: string) {
    super('GenericError', reason);
  }
}

/** The agent's own names look like this; anything else a guest says is not used as a file name here. */
const SNAPSHOT_NAME = /^etcd-\d{8}T\d{6}\.\d{3}Z-rev\d+\.db$/;

function parseSnapshot(v: JsonValue): GuestEtcdSnapshot {
  if (!isObject(v)) throw new QgaRemoteError('GenericError', 'guestlink-etcd-snapshot returned no object');
  const num = (x: unknown) => (typeof x === 'number' ? x : typeof x === 'bigint' ? Number(x) : Number.NaN);
  const out = {
    path: String(v.path ?? ''),
    revision: num(v.revision),
    size: num(v.size),
    sha256: String(v.sha256 ?? ''),
    takenAt: String(v['taken-at'] ?? ''),
    source: String(v.source ?? ''),
  };
  if (!out.path.startsWith('/') || !Number.isSafeInteger(out.size) || out.size < 0 || !/^[0-9a-f]{64}$/.test(out.sha256))
    throw new QgaRemoteError('GenericError', `guestlink-etcd-snapshot returned a malformed result: ${JSON.stringify(out)}`);
  return out;
}

/** The local file name for a snapshot (the guest's name when it is snapshot-shaped), prefixed when asked. */
export function localName(guestPath: string, prefix?: string): string {
  const base = path.posix.basename(guestPath);
  const name = SNAPSHOT_NAME.test(base) ? base : 'etcd-snapshot.db';
  return prefix ? `${prefix.replace(/[^A-Za-z0-9._-]/g, '_')}-${name}` : name;
}

/** Checks etcd's appended digest: sha256 of everything before the last 32 bytes equals them. */
export async function checkEtcdDigest(file: string): Promise<void> {
  const size = (await stat(file)).size;
  if (size % 512 !== 32) throw new ChecksumError(`${file}: ${size} bytes is not a whole etcd snapshot (no sha256 digest at its end)`);
  const h = createHash('sha256');
  const tail: Buffer[] = [];
  await new Promise<void>((resolve, reject) => {
    createReadStream(file, { end: size - 33 })
      .on('data', (c) => h.update(c as Buffer))
      .on('error', reject)
      .on('end', resolve);
  });
  await new Promise<void>((resolve, reject) => {
    createReadStream(file, { start: size - 32 })
      .on('data', (c) => tail.push(c as Buffer))
      .on('error', reject)
      .on('end', resolve);
  });
  if (h.digest('hex') !== Buffer.concat(tail).toString('hex'))
    throw new ChecksumError(`${file}: the database does not match the sha256 etcd appended to it; take the snapshot again`);
}

/** How long to wait, and progress for the CLI's line. */
export interface FetchOptions extends CallOptions {
  /** How long the agent may take to make the snapshot (its own --etcd-snapshot-timeout bounds it). */
  snapshotTimeoutMs?: number;
  onProgress?: (done: number, total: number | undefined) => void;
}

/** Whether the agent takes etcd snapshots; throws NoEtcdSnapshotsError / UnsupportedError when not. */
export async function etcdSnapshotsEnabled(conn: AgentConnection, opts: CallOptions = {}): Promise<void> {
  let status: JsonValue;
  try {
    status = await conn.call('guestlink-etcd-snapshot-status', {}, opts);
  } catch (err) {
    if (err instanceof QgaRemoteError && err.notAvailable)
      throw new UnsupportedError(`${conn.name}: the agent has no etcd snapshots (not guestlink, or an older one)`);
    throw err;
  }
  if (!isObject(status) || status.enabled !== true)
    throw new NoEtcdSnapshotsError(`${conn.name}: no etcd snapshots on this node (a worker, or --etcd-snapshot-dir is not set)`);
}

/** Takes a snapshot in the guest and copies it to `target` (a file, or a directory to put it in). */
export async function fetchEtcdSnapshot(
  conn: AgentConnection,
  target: string,
  opts: FetchOptions & { prefix?: string } = {},
): Promise<FetchedEtcdSnapshot> {
  const t0 = performance.now();
  await etcdSnapshotsEnabled(conn, opts);
  const guest = parseSnapshot(await conn.call('guestlink-etcd-snapshot', {}, { timeoutMs: opts.snapshotTimeoutMs ?? 600_000 }));
  const isDir = await stat(target).then(
    (s) => s.isDirectory(),
    () => false,
  );
  const file = isDir ? path.join(target, localName(guest.path, opts.prefix)) : target;
  const part = path.join(path.dirname(file), `.${path.basename(file)}.part-${process.pid}`);
  try {
    const r = await download(conn, guest.path, part, {
      ...opts,
      verify: 'none',
      onProgress: (done, total) => {
        if (done > guest.size) throw new ChecksumError(`${guest.path}: the guest sends more than the ${guest.size} bytes it announced`);
        opts.onProgress?.(done, total ?? guest.size);
      },
    });
    if (r.bytes !== guest.size || r.sha256 !== guest.sha256)
      throw new ChecksumError(
        `${guest.path}: copied ${r.bytes} bytes with sha256 ${r.sha256}, the agent reported ${guest.size} bytes with ${guest.sha256}; try again`,
      );
    await checkEtcdDigest(part);
    await rename(part, file);
    return { guest, file, bytes: r.bytes, ms: performance.now() - t0 };
  } finally {
    await rm(part, { force: true });
  }
}
