// guest-file-open's modes as open(2) flags, and the small errno helpers the openers share.
import { constants } from 'node:fs';
import type { FileOpenMode } from '../interfaces.js';

const { O_RDONLY, O_WRONLY, O_RDWR, O_CREAT, O_APPEND, O_NOCTTY, O_NONBLOCK } = constants;

/** Mode of files guest-file-open creates: owner only (qemu-ga forces 0666; guestlink chooses 0600). */
export const NEW_FILE_MODE = 0o600;

/**
 * The open(2) flags for a mode, as qemu-ga's safe_open_or_create uses them: O_NOCTTY, and O_NONBLOCK so that
 * a FIFO cannot hang the agent. Never O_TRUNC: truncating waits until the opened file is known to be the
 * one beneath the root and to have no other hard link (see file-access.ts).
 */
export function openFlags(mode: FileOpenMode): number {
  let flags = mode.readable && mode.writable ? O_RDWR : mode.writable ? O_WRONLY : O_RDONLY;
  if (mode.create) flags |= O_CREAT;
  if (mode.append) flags |= O_APPEND;
  return flags | O_NOCTTY | O_NONBLOCK;
}

/** An error shaped like Node's system errors (`code` = the errno name), for the refusals the openers make themselves. */
export function errnoError(code: string, message: string): NodeJS.ErrnoException {
  return Object.assign(new Error(message), { code });
}

/** Splits a relative path into its names; undefined when it is absolute, has an empty, '.' or '..' component, or a NUL byte. */
export function plainComponents(relative: string): string[] | undefined {
  const names = relative.split('/');
  if (relative.includes('\0') || names.some((n) => n === '' || n === '.' || n === '..')) return undefined;
  return names;
}

/** `root` + '/' + `relative`, for a root that may be '/'. */
export function joinBeneath(root: string, relative: string): string {
  return root === '/' ? `/${relative}` : `${root}/${relative}`;
}
