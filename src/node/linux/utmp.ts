// The utmp records guest-get-users reads (glibc's getutxent on /var/run/utmp), parsed directly.
// Layout of glibc's struct utmp on 64-bit Linux (x86_64, aarch64; ut_tv kept 32-bit for compat): 384 bytes.
import { endianness } from 'node:os';
import type { LoggedInUser } from '../interfaces.js';

/** Size and field offsets of one record. */
export const UTMP = {
  size: 384,
  type: 0, // short ut_type
  user: 44, // char ut_user[32]
  userLen: 32,
  tvSec: 340, // int32_t ut_tv.tv_sec
  tvUsec: 344, // int32_t ut_tv.tv_usec
} as const;

/** ut_type of a logged-in user's session. */
export const USER_PROCESS = 7;

/**
 * Users with a USER_PROCESS record, each once (in order of first appearance) with the earliest login
 * time in seconds with microseconds as the fraction, as qemu-ga reports them. Partial records are ignored.
 */
export function parseUtmp(buf: Uint8Array, littleEndian = endianness() === 'LE'): LoggedInUser[] {
  const view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  const byName = new Map<string, LoggedInUser>();
  for (let off = 0; off + UTMP.size <= buf.byteLength; off += UTMP.size) {
    if (view.getInt16(off + UTMP.type, littleEndian) !== USER_PROCESS) continue;
    const raw = buf.subarray(off + UTMP.user, off + UTMP.user + UTMP.userLen);
    const nul = raw.indexOf(0);
    const user = Buffer.from(nul < 0 ? raw : raw.subarray(0, nul)).toString('utf8');
    const loginTime = view.getInt32(off + UTMP.tvSec, littleEndian) + view.getInt32(off + UTMP.tvUsec, littleEndian) / 1000000;
    const seen = byName.get(user);
    if (!seen) byName.set(user, { user, loginTime });
    else if (loginTime < seen.loginTime) seen.loginTime = loginTime;
  }
  return [...byName.values()];
}

/** Builds one record (for tests and fixtures). */
export function utmpRecord(type: number, user: string, sec: number, usec: number, littleEndian = endianness() === 'LE'): Buffer {
  const b = Buffer.alloc(UTMP.size);
  const view = new DataView(b.buffer, b.byteOffset, b.byteLength);
  view.setInt16(UTMP.type, type, littleEndian);
  b.write(user, UTMP.user, UTMP.userLen, 'utf8');
  view.setInt32(UTMP.tvSec, sec, littleEndian);
  view.setInt32(UTMP.tvUsec, usec, littleEndian);
  return b;
}
