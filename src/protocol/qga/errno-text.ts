// glibc's strerror() texts for the errno codes Node reports, so that error descriptions read exactly
// like qemu-ga's (error_setg_errno appends ": <strerror>", e.g. "failed to open file '/x' (mode: 'r'):
// No such file or directory"); Node's own messages use libuv's wording instead.
import { constants } from 'node:os';

const TEXTS: Readonly<Record<string, string>> = {
  EPERM: 'Operation not permitted',
  ENOENT: 'No such file or directory',
  ESRCH: 'No such process',
  EINTR: 'Interrupted system call',
  EIO: 'Input/output error',
  ENXIO: 'No such device or address',
  E2BIG: 'Argument list too long',
  EBADF: 'Bad file descriptor',
  EAGAIN: 'Resource temporarily unavailable',
  ENOMEM: 'Cannot allocate memory',
  EACCES: 'Permission denied',
  EFAULT: 'Bad address',
  EBUSY: 'Device or resource busy',
  EEXIST: 'File exists',
  EXDEV: 'Invalid cross-device link',
  ENODEV: 'No such device',
  ENOTDIR: 'Not a directory',
  EISDIR: 'Is a directory',
  EINVAL: 'Invalid argument',
  ENFILE: 'Too many open files in system',
  EMFILE: 'Too many open files',
  ENOTTY: 'Inappropriate ioctl for device',
  EFBIG: 'File too large',
  ENOSPC: 'No space left on device',
  ESPIPE: 'Illegal seek',
  EROFS: 'Read-only file system',
  EMLINK: 'Too many links',
  EPIPE: 'Broken pipe',
  ERANGE: 'Numerical result out of range',
  ENAMETOOLONG: 'File name too long',
  ENOSYS: 'Function not implemented',
  ELOOP: 'Too many levels of symbolic links',
  EOPNOTSUPP: 'Operation not supported',
  ENOTSUP: 'Operation not supported',
  EADDRNOTAVAIL: 'Cannot assign requested address',
  ETIMEDOUT: 'Connection timed out',
  ENOEXEC: 'Exec format error',
  EWOULDBLOCK: 'Resource temporarily unavailable',
  ETXTBSY: 'Text file busy',
  EOVERFLOW: 'Value too large for defined data type',
  EDQUOT: 'Disk quota exceeded',
};

/** The glibc text for a Node system error (by its `code`), falling back to the error's own message. */
export function strerror(err: unknown): string {
  const code = (err as NodeJS.ErrnoException | undefined)?.code;
  if (code && TEXTS[code]) return TEXTS[code];
  if (err instanceof Error) return err.message;
  return code ?? String(err);
}

/** The numeric errno for a Node system error (0 when unknown), as qemu-ga reports in `error-code`. */
export function errnoOf(err: unknown): number {
  const code = (err as NodeJS.ErrnoException | undefined)?.code;
  const n = code ? (constants.errno as Record<string, number>)[code] : undefined;
  return n ?? 0;
}

/** The Node error code of a thrown value ('ENOENT', ...), or undefined. */
export function errnoCode(err: unknown): string | undefined {
  return (err as NodeJS.ErrnoException | undefined)?.code;
}
