// Reading guest files through guest-file-open/-read with a bound: the guest decides what it sends, so
// every loop stops one byte past the caller's limit (asking for no more than that) instead of
// buffering or writing whatever arrives. Shared by cp, the read-back check and the kubeconfig fetch.
import { isObject } from '../protocol/qga/json-value.js';
import type { AgentConnection, CallOptions } from './connection.js';
import { QgaRemoteError, TooLargeError, UnsupportedError } from './errors.js';

/** Opens a guest file and returns its handle. */
export async function openGuest(conn: AgentConnection, file: string, mode: string, opts: CallOptions): Promise<number> {
  const h = await conn.call('guest-file-open', { path: file, mode }, opts);
  if (typeof h !== 'number') throw new QgaRemoteError('GenericError', `guest-file-open returned ${String(h)}`);
  return h;
}

/** The file's size from guest-file-seek to the end (and back to the start), or undefined when the agent gives none. */
export async function guestFileSize(conn: AgentConnection, handle: number, opts: CallOptions): Promise<number | undefined> {
  const end = await conn.call('guest-file-seek', { handle, offset: 0, whence: 'end' }, opts).catch(() => undefined);
  if (!isObject(end) || typeof end.position !== 'number' || !Number.isSafeInteger(end.position) || end.position < 0) return undefined;
  await conn.call('guest-file-seek', { handle, offset: 0, whence: 'set' }, opts);
  return end.position;
}

export interface ReadLimit {
  /** The most bytes accepted; one more is an error. */
  limit: number;
  /** The error for a file that goes past `limit` (seen: the bytes received so far). */
  tooLarge: (seen: number) => Error;
}

/**
 * Reads an open handle to the end in chunks of at most `chunk` bytes, handing each chunk on; stops with
 * `tooLarge` past the limit, and with a TooLargeError when a reply carries more than was asked for.
 */
export async function readHandle(
  conn: AgentConnection,
  handle: number,
  chunk: number,
  bound: ReadLimit,
  onChunk: (b: Buffer) => void | Promise<void>,
  opts: CallOptions = {},
): Promise<{ bytes: number; chunks: number }> {
  let bytes = 0;
  let chunks = 0;
  for (;;) {
    const count = Math.max(1, Math.min(chunk, bound.limit - bytes + 1));
    const r = await conn.call('guest-file-read', { handle, count }, opts);
    if (!isObject(r)) throw new QgaRemoteError('GenericError', 'guest-file-read returned no object');
    const b = typeof r['buf-b64'] === 'string' ? Buffer.from(r['buf-b64'], 'base64') : Buffer.alloc(0);
    if (b.length > count)
      throw new TooLargeError(`guest-file-read returned ${b.length} bytes when ${count} were asked for (a broken or hostile agent)`);
    bytes += b.length;
    if (bytes > bound.limit) throw bound.tooLarge(bytes);
    if (b.length > 0) {
      chunks++;
      await onChunk(b);
    }
    if (r.eof === true || b.length === 0) return { bytes, chunks };
  }
}

/** Reads a whole guest file into memory, refusing one larger than the bound (kubeconfigs, small files). */
export async function readGuestFile(conn: AgentConnection, file: string, bound: ReadLimit, opts: CallOptions = {}): Promise<Buffer> {
  if (conn.wholeFile) {
    const r = await conn.wholeFile.read(file, { ...opts, maxPayloadBytes: bound.limit });
    if (r.data.length > bound.limit) throw bound.tooLarge(r.data.length);
    if (r.truncated) throw new UnsupportedError(`${file} is larger than the ${conn.wholeFile.maxRead} bytes the hypervisor API returns`);
    return r.data;
  }
  const parts: Buffer[] = [];
  const handle = await openGuest(conn, file, 'r', opts);
  try {
    await readHandle(conn, handle, conn.limits.readChunk, bound, (b) => void parts.push(b), opts);
  } finally {
    await conn.call('guest-file-close', { handle }, opts).catch(() => {});
  }
  return Buffer.concat(parts);
}
