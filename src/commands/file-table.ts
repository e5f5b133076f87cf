// The guest-file-* handles of this agent process, shared by every connection, and qemu-ga's open modes.
// No I/O here: the files come opened from the node layer (FileAccess); this table only numbers them,
// finds them, and bounds how many may be open at once.
//
// Handles outlive the connection that opened them, as in qemu-ga: Proxmox VE opens a new connection for
// every command (guest-file-open, then each guest-file-read, then guest-file-close), so a handle tied to its
// connection would be gone before the first read. The cap is what keeps that from growing without bound.

import type { FileOpenMode, OpenedFile } from '../node/interfaces.js';
import { genericError } from '../protocol/qga/errors.js';

/** How an fopen() mode string opens a file: qemu-ga's table (r, rb, w, wb, a, ab, r+, rb+, r+b, w+, wb+, w+b, a+, ab+, a+b). */
const MODES: Readonly<Record<string, FileOpenMode>> = {
  r: { readable: true, writable: false, create: false, truncate: false, append: false },
  w: { readable: false, writable: true, create: true, truncate: true, append: false },
  a: { readable: false, writable: true, create: true, truncate: false, append: true },
  'r+': { readable: true, writable: true, create: false, truncate: false, append: false },
  'w+': { readable: true, writable: true, create: true, truncate: true, append: false },
  'a+': { readable: true, writable: true, create: true, truncate: false, append: true },
};
const SPELLINGS: Readonly<Record<string, string>> = {
  r: 'r',
  rb: 'r',
  w: 'w',
  wb: 'w',
  a: 'a',
  ab: 'a',
  'r+': 'r+',
  'rb+': 'r+',
  'r+b': 'r+',
  'w+': 'w+',
  'wb+': 'w+',
  'w+b': 'w+',
  'a+': 'a+',
  'ab+': 'a+',
  'a+b': 'a+',
};

/** Parses a mode as qemu-ga does; throws "invalid file open mode 'zz'" otherwise. */
export function parseOpenMode(mode: string): FileOpenMode {
  const base = Object.hasOwn(SPELLINGS, mode) ? SPELLINGS[mode] : undefined;
  if (base === undefined) throw genericError(`invalid file open mode '${mode}'`, 'BAD_ARGUMENT');
  return MODES[base] as FileOpenMode;
}

/** --max-file-handles' default: far above what a hypervisor holds at once, far below the process's fd limit. */
export const DEFAULT_MAX_FILE_HANDLES = 128;

/** A place in the table taken for an open in progress: filled with the handle, or given back. */
export interface Reservation {
  fill(handle: number, file: OpenedFile): void;
  release(): void;
}

/** The handles of this agent process; a closed handle is forgotten at once. Made once in agent/main.ts. */
export class FileTable {
  private readonly files = new Map<number, OpenedFile>();
  /** Opens in progress: they count against the limit too, so concurrent opens cannot overshoot it. */
  private pending = 0;

  constructor(readonly limit: number = DEFAULT_MAX_FILE_HANDLES) {}

  /** Takes a place for one more handle; throws a GenericError naming the limit when all are taken. */
  reserve(): Reservation {
    if (this.files.size + this.pending >= this.limit)
      throw genericError(
        `guest-file-open: too many open handles (the limit is ${this.limit}, shared by all connections): ` +
          'close some with guest-file-close, or raise --max-file-handles',
        'LIMIT',
      );
    this.pending++;
    let done = false;
    const finish = () => {
      if (done) return false;
      done = true;
      this.pending--;
      return true;
    };
    return {
      fill: (handle, file) => {
        if (finish()) this.files.set(handle, file);
      },
      release: () => {
        finish();
      },
    };
  }

  /** The handle's file, or qemu-ga's "handle 'N' has not been found". */
  get(handle: number | bigint): OpenedFile {
    const f = typeof handle === 'number' ? this.files.get(handle) : undefined;
    if (!f) throw genericError(`handle '${handle}' has not been found`, 'BAD_HANDLE');
    return f;
  }

  /** Forgets a handle and closes its file; returns the file (for the audit line). */
  async close(handle: number | bigint): Promise<OpenedFile> {
    const f = this.get(handle);
    this.files.delete(handle as number);
    await f.close();
    return f;
  }

  /** Closes everything (agent shutdown, tests). */
  async closeAll(): Promise<void> {
    const all = [...this.files.values()];
    this.files.clear();
    await Promise.all(all.map((f) => f.close().catch(() => {})));
  }

  get size(): number {
    return this.files.size;
  }
}
