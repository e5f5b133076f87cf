// guest-file-*: files opened beneath the allow-listed directories, never beside them.
// One of the node interfaces (node/interfaces.ts re-exports them all).

/** How guest-file-open opens a file: qemu-ga's fopen() modes, in words rather than the OS's flag numbers. */
export interface FileOpenMode {
  readable: boolean;
  writable: boolean;
  /** Create the file when it is missing (w, a): a new file gets mode 0600. */
  create: boolean;
  /** Empty an existing file (w): done only once the opened file is known to be the one beneath the root. */
  truncate: boolean;
  /** Every write goes to the end (a). */
  append: boolean;
}

/** Choices the opener leaves to the caller (from the agent's settings). */
export interface FileOpenOptions {
  /** Open a file that has other hard links (whose other names may be outside the allow-list); else EMLINK. */
  allowHardLinks: boolean;
}

/** One open file behind a guest-file-* handle, with qemu-ga's read/write/seek semantics. */
export interface OpenedFile {
  /** Where the file was opened: the root's canonical path plus the relative path (no symlink on the way). */
  readonly path: string;
  /**
   * Reads up to `count` bytes; eof is true when the file ended before `count` (never for count 0). Into
   * `into` when given (at least `count` long: guest-file-read reads into its reply's buffer), else into a
   * new buffer; `data` is the part read.
   */
  read(count: number, into?: Buffer): Promise<{ count: number; data: Buffer; eof: boolean }>;
  /** Writes `data` (at the end in append mode); the number of bytes written. */
  write(data: Buffer): Promise<number>;
  /** Moves the position (0 set, 1 cur, 2 end); returns the new one. */
  seek(offset: number, whence: 0 | 1 | 2): Promise<number>;
  /** Waits for pending operations (writes are not buffered). */
  flush(): Promise<void>;
  close(): Promise<void>;
}

/**
 * Opens files for guest-file-* beneath an allow-listed directory, never beside it: no symlink, no '..' and
 * no rename race beneath the root can lead the open outside (openat2 RESOLVE_BENEATH through the native
 * addon, else an openat walk, else an open verified after the fact). Shared by every back end: the agent
 * opens files on the node's own filesystem on Talos too.
 */
export interface FileAccess {
  /** How files are opened here: 'openat2', 'openat-walk' or 'verify-after-open' (no native addon). */
  readonly method: string;
  /**
   * An allow-list entry with its own symlinks resolved (the administrator's path, trusted): the directory,
   * or for a file entry that does not exist yet its resolved parent plus its name; undefined when missing.
   */
  canonical(entry: string): Promise<string | undefined>;
  /**
   * Opens `relative` (components without '.', '..' or empty ones) beneath the directory `root` (a canonical
   * path). Rejects with an errno-style error (`code`): ELOOP for a symlink on the way, EMLINK for a file
   * with other hard links unless allowed, ENOENT, EACCES, ... as the OS says.
   */
  openBeneath(root: string, relative: string, mode: FileOpenMode, opts: FileOpenOptions): Promise<OpenedFile>;
}
