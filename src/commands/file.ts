// guest-file-open/-read/-write/-seek/-flush/-close, as qemu-ga 7.2 answers them, behind guestlink's
// allow-lists: reads need --allow-file-read, writes --allow-file-write. The path is matched against the
// lists without being resolved, then opened beneath the allow-listed directory by the node layer
// (FileAccess), which follows no symlink: a symlink or '..' beneath the directory is refused, not
// resolved (qemu-ga follows both), and so is a file with other hard links unless --allow-file-hardlinks.
// The audit line of each mutating call carries the path actually opened (`resolvedPath`).

import type { OpenedFile } from '../node/interfaces.js';
import { errnoCode, strerror } from '../protocol/qga/errno-text.js';
import { genericError, type QgaError } from '../protocol/qga/errors.js';
import type { BulkString } from '../protocol/qga/json-bulk.js';
import { Base64Room, releaseReply, takeBulkBuffer } from '../protocol/qga/json-reply.js';
import { Base64Bytes } from '../protocol/qga/json-value.js';
import { decodeBase64 } from './base64.js';
import type { CommandContext, GroupHandlers } from './context.js';
import { type FileTable, parseOpenMode } from './file-table.js';
import { type Beneath, PathAllowList, requestedNames } from './path-policy.js';

/** qemu-ga's GUEST_FILE_READ_COUNT_MAX: 48 MiB, so that a reply stays under the 64 MiB JSON limit. */
export const READ_COUNT_MAX = 48 << 20;
/** qemu-ga's QGA_READ_COUNT_DEFAULT. */
export const READ_COUNT_DEFAULT = 4096;

type Int = number | bigint;

function invalidCount(count: Int): QgaError {
  return genericError(`value '${count}' is invalid for argument count`, 'BAD_ARGUMENT');
}

/** Refuses, or returns the allow-listed directory to open `requested` beneath, for a mode that reads and/or writes. */
async function checkAllowed(requested: string, m: { readable: boolean; writable: boolean }, ctx: CommandContext): Promise<Beneath> {
  const names = requestedNames(requested);
  if (names === undefined)
    throw genericError(
      `guest-file-open: '${requested}' contains '..', which guestlink refuses (name the file by its path beneath an allow-listed directory)`,
      'NOT_ALLOWED',
    );
  const canonical = (entry: string) => ctx.node.files.canonical(entry);
  let where: Beneath | undefined;
  for (const [need, list, flag, what] of [
    [m.readable, ctx.settings.allowFileRead, '--allow-file-read', 'reading'],
    [m.writable, ctx.settings.allowFileWrite, '--allow-file-write', 'writing'],
  ] as const) {
    if (!need) continue;
    const found = await new PathAllowList(list).locate(names, canonical);
    if (!found) throw genericError(`guest-file-open: '${requested}' is not allowed for ${what} (allow it with ${flag})`, 'NOT_ALLOWED');
    // Both lists cover the path: opening beneath the deeper root stays beneath the other too.
    if (!where || found.depth > where.depth) where = found;
  }
  return where as Beneath;
}

/** guest-file-open's refusal or failure, in words that say what to do. */
function openError(err: unknown, requested: string, mode: string, where: Beneath): QgaError {
  switch (errnoCode(err)) {
    case 'ELOOP':
      return genericError(
        `guest-file-open: '${requested}' goes through a symbolic link beneath '${where.root}', which guestlink does not follow ` +
          '(name the file itself, by a path without symlinks)',
        'NOT_ALLOWED',
      );
    case 'EMLINK':
      return genericError(
        `guest-file-open: '${requested}' has ${(err as { links?: number }).links ?? 'several'} hard links, and another name of it may be ` +
          'outside the allow-list (allow such files with --allow-file-hardlinks)',
        'NOT_ALLOWED',
      );
    default:
      return genericError(`failed to open file '${requested}' (mode: '${mode}'): ${strerror(err)}`, 'IO');
  }
}

/** Handlers bound to one handle table, made by agent/main.ts (tests make their own). */
export function makeFileHandlers(table: FileTable): GroupHandlers<'file'> {
  return {
    'guest-file-open': async (args: { path: string; mode?: string }, ctx) => {
      const mode = args.mode ?? 'r';
      const m = parseOpenMode(mode);
      const where = await checkAllowed(args.path, m, ctx);
      const resolvedPath = where.root === '/' ? `/${where.relative}` : `${where.root}/${where.relative}`;
      ctx.audit?.({ resolvedPath });
      const place = table.reserve();
      try {
        let file: OpenedFile;
        try {
          file = await ctx.node.files.openBeneath(where.root, where.relative, m, { allowHardLinks: ctx.settings.allowFileHardlinks });
        } catch (err) {
          throw openError(err, args.path, mode, where);
        }
        try {
          const handle = await ctx.state.nextFileHandle();
          place.fill(handle, file);
          return handle;
        } catch (err) {
          await file.close().catch(() => {});
          throw err;
        }
      } finally {
        place.release();
      }
    },

    'guest-file-close': async (args: { handle: Int }, ctx) => {
      ctx.audit?.({ resolvedPath: table.get(args.handle).path });
      await table.close(args.handle);
    },

    'guest-file-read': async (args: { handle: Int; count?: Int }) => {
      const file = table.get(args.handle);
      const count = args.count ?? READ_COUNT_DEFAULT;
      if (typeof count !== 'number' || count < 0 || count > READ_COUNT_MAX) throw invalidCount(count);
      if (!Base64Room.fits(count)) {
        const r = await file.read(count);
        return { count: r.count, 'buf-b64': new Base64Bytes(r.data), eof: r.eof };
      }
      // Read into the reply's own buffer, to be encoded there in place (json-reply.ts).
      const room = new Base64Room(count);
      try {
        const r = await file.read(count, room.data);
        return { count: r.count, 'buf-b64': room.bytes(r.count), eof: r.eof };
      } catch (err) {
        room.release();
        throw err;
      }
    },

    'guest-file-write': async (args: { handle: Int; 'buf-b64': string | BulkString; count?: Int }, ctx) => {
      const file = table.get(args.handle);
      ctx.audit?.({ resolvedPath: file.path });
      // Decoded into a pooled buffer, reused once the write is done (spare-buffers.ts says why): a host
      // writing a file in 1 MiB chunks (`guestlink cp`) reuses one buffer, dropped when the agent idles.
      const data = decodeBase64(args['buf-b64'], takeBulkBuffer);
      try {
        let count = data.length;
        if (args.count !== undefined) {
          if (typeof args.count !== 'number' || args.count < 0 || args.count > data.length) throw invalidCount(args.count);
          count = args.count;
        }
        const written = await file.write(count === data.length ? data : data.subarray(0, count));
        return { count: written, eof: false };
      } finally {
        releaseReply(data);
      }
    },

    'guest-file-seek': async (args: { handle: Int; offset: Int; whence: Int | 'set' | 'cur' | 'end' }) => {
      const file = table.get(args.handle);
      const w = args.whence;
      const whence = w === 'set' ? 0 : w === 'cur' ? 1 : w === 'end' ? 2 : w;
      if (whence !== 0 && whence !== 1 && whence !== 2 && whence !== 0n && whence !== 1n && whence !== 2n)
        throw genericError(`invalid whence code ${whence}`, 'BAD_ARGUMENT');
      if (typeof args.offset !== 'number') throw genericError('failed to seek file: Invalid argument', 'IO');
      const position = await file.seek(args.offset, Number(whence) as 0 | 1 | 2);
      // Key order as qemu-ga prints it (QDict bucket order): eof before position.
      return { eof: false, position };
    },

    'guest-file-flush': async (args: { handle: Int }, ctx) => {
      const file = table.get(args.handle);
      ctx.audit?.({ resolvedPath: file.path });
      await file.flush();
    },
  };
}
