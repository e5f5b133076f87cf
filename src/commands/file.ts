// guest-file-open/-read/-write/-seek/-flush/-close, as qemu-ga 7.2 answers them, behind
// guestlink's allow-lists: reads need --allow-file-read, writes --allow-file-write, checked on the
// path the kernel resolves (symlinks, '..'), and the resolved path is the one opened.

import { strerror } from '../protocol/qga/errno-text.js';
import { genericError, type QgaError } from '../protocol/qga/errors.js';
import { Base64Bytes } from '../protocol/qga/json-value.js';
import { decodeBase64 } from './base64.js';
import type { CommandContext, GroupHandlers } from './context.js';
import { type FileTable, OpenFile, parseOpenMode } from './file-table.js';
import { PathAllowList, resolveForOpen } from './path-policy.js';

/** qemu-ga's GUEST_FILE_READ_COUNT_MAX: 48 MiB, so that a reply stays under the 64 MiB JSON limit. */
export const READ_COUNT_MAX = 48 << 20;
/** qemu-ga's QGA_READ_COUNT_DEFAULT. */
export const READ_COUNT_DEFAULT = 4096;

type Int = number | bigint;

function invalidCount(count: Int): QgaError {
  return genericError(`value '${count}' is invalid for argument count`, 'BAD_ARGUMENT');
}

/** Refuses, or returns the canonical path to open, for `requested` opened with `mode`. */
async function checkAllowed(requested: string, mode: string, ctx: CommandContext) {
  const m = parseOpenMode(mode);
  const resolved = await resolveForOpen(requested);
  const shown = resolved.real === requested ? `'${requested}'` : `'${requested}' (resolves to '${resolved.real}')`;
  if (m.readable && !(await new PathAllowList(ctx.settings.allowFileRead).allows(resolved.real)))
    throw genericError(`guest-file-open: ${shown} is not allowed for reading (allow it with --allow-file-read)`, 'NOT_ALLOWED');
  if (m.writable && !(await new PathAllowList(ctx.settings.allowFileWrite).allows(resolved.real)))
    throw genericError(`guest-file-open: ${shown} is not allowed for writing (allow it with --allow-file-write)`, 'NOT_ALLOWED');
  return { m, resolved };
}

/** Handlers bound to one handle table (the agent makes one table in main.ts; tests make their own). */
export function makeFileHandlers(table: FileTable): GroupHandlers<'file'> {
  return {
    'guest-file-open': async (args: { path: string; mode?: string }, ctx) => {
      const mode = args.mode ?? 'r';
      const { m, resolved } = await checkAllowed(args.path, mode, ctx);
      const fail = (err: unknown) => genericError(`failed to open file '${args.path}' (mode: '${mode}'): ${strerror(err)}`, 'IO');
      if (resolved.error) throw fail(resolved.error);
      let file: OpenFile;
      try {
        file = await OpenFile.open(resolved.real, m);
      } catch (err) {
        throw fail(err);
      }
      let handle: number;
      try {
        handle = await ctx.state.nextFileHandle();
      } catch (err) {
        await file.close().catch(() => {});
        throw err;
      }
      table.add(handle, file);
      return handle;
    },

    'guest-file-close': async (args: { handle: Int }) => {
      await table.close(args.handle);
    },

    'guest-file-read': async (args: { handle: Int; count?: Int }) => {
      const file = table.get(args.handle);
      const count = args.count ?? READ_COUNT_DEFAULT;
      if (typeof count !== 'number' || count < 0 || count > READ_COUNT_MAX) throw invalidCount(count);
      const r = await file.read(count);
      return { count: r.count, 'buf-b64': new Base64Bytes(r.data), eof: r.eof };
    },

    'guest-file-write': async (args: { handle: Int; 'buf-b64': string; count?: Int }) => {
      const file = table.get(args.handle);
      const data = decodeBase64(args['buf-b64']);
      let count = data.length;
      if (args.count !== undefined) {
        if (typeof args.count !== 'number' || args.count < 0 || args.count > data.length) throw invalidCount(args.count);
        count = args.count;
      }
      const written = await file.write(count === data.length ? data : data.subarray(0, count));
      return { count: written, eof: false };
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

    'guest-file-flush': async (args: { handle: Int }) => {
      await table.get(args.handle).flush();
    },
  };
}
