// File transfer both ways: guest-file-open/-read/-write in chunks sized for the connector, hashed
// with SHA-256 on the way, and checked against the guest's own copy — `sha256sum` run in the guest
// when guest-exec allows it; otherwise the size (downloads) or a read-back (uploads). What the guest
// sends is bounded: a download stops past the size the guest reported (+ SIZE_SLACK), or past
// maxBytes when it reports none, and leaves no partial file behind.
import { createHash, randomBytes } from 'node:crypto';
import { open, rename, rm, stat } from 'node:fs/promises';
import path from 'node:path';
import { isObject } from '../protocol/qga/json-value.js';
import type { AgentConnection, CallOptions } from './connection.js';
import { ChecksumError, QgaRemoteError, TooLargeError, UnsupportedError } from './errors.js';
import { execInGuest } from './exec.js';
import { guestFileSize, openGuest, readHandle } from './guest-file.js';

export type Verify = 'auto' | 'none';

/** A file may grow this much between the size check and the last read (a log being written) before cp stops. */
export const SIZE_SLACK = 64 << 10;
/** cp's bound for a download whose size the guest does not report (--max-bytes raises it). */
export const UNSIZED_DOWNLOAD_MAX = 1 << 30;

export interface TransferResult {
  bytes: number;
  sha256: string;
  /** How the guest's copy was checked: its own sha256sum, a read-back, its size, or not at all. */
  verified: 'sha256' | 'readback' | 'size' | 'none';
  ms: number;
  chunks: number;
}

export interface TransferOptions extends CallOptions {
  verify?: Verify;
  /** Progress in bytes (for a progress line). */
  onProgress?: (done: number, total: number | undefined) => void;
  /** Overrides the connector's chunk size (bytes). */
  chunkBytes?: number;
  /** Downloads: the most bytes accepted (default: the reported size + SIZE_SLACK, else UNSIZED_DOWNLOAD_MAX). */
  maxBytes?: number;
}

/** The guest's SHA-256 of a file through `sha256sum`, or undefined when the agent may not run it. */
export async function guestSha256(conn: AgentConnection, file: string, opts: CallOptions = {}): Promise<string | undefined> {
  try {
    // One line of output is expected; a guest that sends more is not believed.
    const r = await execInGuest(conn, { path: 'sha256sum', args: [file] }, { ...opts, deadlineMs: 600_000, maxOutputBytes: 64 << 10 });
    const m = /^([0-9a-f]{64})\b/.exec(r.stdout.toString('latin1'));
    return r.exitCode === 0 && m ? m[1] : undefined;
  } catch (err) {
    if (err instanceof QgaRemoteError) return undefined; // exec disabled or not allowed, or no sha256sum
    throw err;
  }
}

/**
 * True when the guest's own sha256sum of `file` equals `ours`; false when the guest cannot compute one
 * (the caller falls back); a ChecksumError when they differ.
 */
async function sameAsGuestSha256(
  conn: AgentConnection,
  file: string,
  ours: string,
  what: 'received' | 'sent',
  opts: CallOptions,
): Promise<boolean> {
  const theirs = await guestSha256(conn, file, opts);
  if (theirs === undefined) return false;
  if (theirs !== ours) throw new ChecksumError(`${file}: the guest's sha256 ${theirs} differs from the ${what} ${ours}; try again`);
  return true;
}

async function localTarget(local: string, guestFile: string): Promise<string> {
  const st = await stat(local).catch(() => undefined);
  return st?.isDirectory() ? path.join(local, path.posix.basename(guestFile)) : local;
}

/** Guest file -> local file (written to a temporary name beside it, renamed when complete; mode 0600). */
export async function download(
  conn: AgentConnection,
  guestFile: string,
  local: string,
  opts: TransferOptions = {},
): Promise<TransferResult> {
  const t0 = performance.now();
  const target = await localTarget(local, guestFile);
  const tmp = path.join(path.dirname(target), `.${path.basename(target)}.guestlink-${randomBytes(4).toString('hex')}`);
  const hash = createHash('sha256');
  const fh = await open(tmp, 'wx', 0o600);
  let bytes = 0;
  let chunks = 0;
  let guestSize: number | undefined;
  const write = async (b: Buffer) => {
    await fh.write(b);
    hash.update(b);
    bytes += b.length;
    opts.onProgress?.(bytes, guestSize);
  };
  try {
    if (conn.wholeFile) {
      const cap = Math.min(opts.maxBytes ?? conn.wholeFile.maxRead, conn.wholeFile.maxRead);
      const r = await conn.wholeFile.read(guestFile, { ...opts, maxPayloadBytes: cap });
      if (r.truncated)
        throw new UnsupportedError(
          `${guestFile} is larger than the ${conn.wholeFile.maxRead} bytes the Proxmox VE API returns (agent/file-read); use a unix: or libvirt: address`,
        );
      if (r.data.length > cap) throw new TooLargeError(`${guestFile}: the guest sent more than --max-bytes ${cap}; nothing written`);
      await write(r.data);
      chunks = 1;
    } else {
      const handle = await openGuest(conn, guestFile, 'r', opts);
      try {
        // The size first, for the progress line, the bound and the size check.
        guestSize = await guestFileSize(conn, handle, opts);
        const limit =
          guestSize !== undefined
            ? Math.min(guestSize + SIZE_SLACK, opts.maxBytes ?? Number.MAX_SAFE_INTEGER)
            : (opts.maxBytes ?? UNSIZED_DOWNLOAD_MAX);
        const tooLarge = (seen: number) =>
          new TooLargeError(
            guestSize !== undefined && limit === guestSize + SIZE_SLACK
              ? `${guestFile}: the guest reported ${guestSize} bytes but sent ${seen}; stopped, nothing written`
              : `${guestFile}: the guest sent more than ${limit} bytes${guestSize === undefined ? ' without reporting a size' : ''}; stopped, nothing written (raise --max-bytes)`,
          );
        chunks = (await readHandle(conn, handle, opts.chunkBytes ?? conn.limits.readChunk, { limit, tooLarge }, write, opts)).chunks;
      } finally {
        await conn.call('guest-file-close', { handle }, opts).catch(() => {});
      }
    }
    await fh.close();
    const sha256 = hash.digest('hex');
    let verified: TransferResult['verified'] = 'none';
    if (opts.verify !== 'none') {
      if (await sameAsGuestSha256(conn, guestFile, sha256, 'received', opts)) verified = 'sha256';
      else if (guestSize !== undefined) {
        if (guestSize !== bytes)
          throw new ChecksumError(`${guestFile}: received ${bytes} bytes, the guest reports ${guestSize}; try again`);
        verified = 'size';
      }
    }
    await rename(tmp, target);
    return { bytes, sha256, verified, ms: performance.now() - t0, chunks };
  } catch (err) {
    await fh.close().catch(() => {});
    await rm(tmp, { force: true });
    throw err;
  }
}

/** The SHA-256 of the guest file read back, refusing one longer than what was sent (nothing is buffered). */
async function readBackSha256(conn: AgentConnection, guestFile: string, sent: number, opts: CallOptions): Promise<string> {
  const hash = createHash('sha256');
  const tooLarge = (seen: number) =>
    new ChecksumError(`${guestFile}: the read-back has more than the ${sent} bytes sent (${seen}); try again`);
  if (conn.wholeFile) {
    const r = await conn.wholeFile.read(guestFile, { ...opts, maxPayloadBytes: sent + 1 });
    if (r.data.length > sent) throw tooLarge(r.data.length);
    return hash.update(r.data).digest('hex');
  }
  const handle = await openGuest(conn, guestFile, 'r', opts);
  try {
    await readHandle(conn, handle, conn.limits.readChunk, { limit: sent, tooLarge }, (b) => void hash.update(b), opts);
  } finally {
    await conn.call('guest-file-close', { handle }, opts).catch(() => {});
  }
  return hash.digest('hex');
}

/** Local file -> guest file (created or truncated). */
export async function upload(conn: AgentConnection, local: string, guestFile: string, opts: TransferOptions = {}): Promise<TransferResult> {
  const t0 = performance.now();
  const hash = createHash('sha256');
  const fh = await open(local, 'r');
  let bytes = 0;
  let chunks = 0;
  try {
    const total = (await fh.stat()).size;
    if (conn.wholeFile) {
      if (total > conn.wholeFile.maxWrite)
        throw new UnsupportedError(
          `${local} has ${total} bytes; the Proxmox VE API writes at most ${conn.wholeFile.maxWrite} per file (agent/file-write); use a unix: or libvirt: address`,
        );
      const data = await fh.readFile();
      await conn.wholeFile.write(guestFile, data, opts);
      hash.update(data);
      bytes = data.length;
      chunks = 1;
      opts.onProgress?.(bytes, total);
    } else {
      const size = opts.chunkBytes ?? conn.limits.writeChunk;
      const depth = conn.limits.pipeline ?? 1;
      const handle = await openGuest(conn, guestFile, 'w', opts);
      // Up to `depth` writes in flight where the connector keeps requests in order (one unix
      // socket): the next chunk is read and encoded while the agent writes the previous one.
      const inflight: Promise<void>[] = [];
      try {
        for (;;) {
          const piece = Buffer.allocUnsafe(size);
          const { bytesRead } = await fh.read(piece, 0, size, null);
          if (bytesRead === 0) break;
          hash.update(piece.subarray(0, bytesRead));
          const sent = conn.call('guest-file-write', { handle, 'buf-b64': piece.toString('base64', 0, bytesRead) }, opts).then((r) => {
            if (!isObject(r) || r.count !== bytesRead)
              throw new QgaRemoteError(
                'GenericError',
                `guest-file-write wrote ${isObject(r) ? String(r.count) : '?'} of ${bytesRead} bytes`,
              );
            bytes += bytesRead;
            chunks++;
            opts.onProgress?.(bytes, total);
          });
          sent.catch(() => {}); // awaited below; this only keeps an early failure from going unhandled
          inflight.push(sent);
          if (inflight.length >= depth) await inflight.shift();
        }
        await Promise.all(inflight);
      } finally {
        await Promise.allSettled(inflight);
        await conn.call('guest-file-close', { handle }, opts).catch(() => {});
      }
    }
  } finally {
    await fh.close();
  }
  const sha256 = hash.digest('hex');
  let verified: TransferResult['verified'] = 'none';
  if (opts.verify !== 'none') {
    if (await sameAsGuestSha256(conn, guestFile, sha256, 'sent', opts)) verified = 'sha256';
    else {
      // No sha256sum in reach: read the file back and hash it here (costs a second transfer).
      const back = await readBackSha256(conn, guestFile, bytes, opts);
      if (back !== sha256) throw new ChecksumError(`${guestFile}: the read-back sha256 ${back} differs from the sent ${sha256}; try again`);
      verified = 'readback';
    }
  }
  return { bytes, sha256, verified, ms: performance.now() - t0, chunks };
}
