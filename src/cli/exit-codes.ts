// The CLI's exit codes, in one table (docs/cli.md lists the same), and the mapping from errors.
import { AddressError, AgentUnreachableError, ChecksumError, QgaRemoteError, QgaTimeoutError, UnsupportedError } from '../host/errors.js';
import { UsageError } from './args.js';

export const EXIT = {
  ok: 0,
  /** The agent answered with an error (the command failed in the guest, or is disabled there). */
  agentError: 1,
  /** Bad command line. */
  usage: 2,
  /** The agent or the hypervisor API could not be reached, refused the credentials, or did not answer in time. */
  unreachable: 3,
  /** Fleet mode: at least one VM failed (the summary table says which and why). */
  someFailed: 4,
  /** cp: the checksum (or size) of the guest's copy does not match. */
  checksum: 5,
  /** The connector cannot carry this request (for example a Proxmox API size limit). */
  unsupported: 6,
  /** exec: guestlink itself failed (the program's own status is passed through otherwise, 128+N for signal N). */
  execFailed: 255,
} as const;

/** Exit code and message for an error that ended a verb. */
export function describeError(err: unknown): { code: number; message: string } {
  const e = err as Error;
  if (err instanceof UsageError || err instanceof AddressError) return { code: EXIT.usage, message: e.message };
  if (err instanceof QgaRemoteError) return { code: EXIT.agentError, message: `the agent answered ${err.errorClass}: ${err.desc}` };
  if (err instanceof QgaTimeoutError)
    return { code: EXIT.unreachable, message: `${e.message}; is the agent running? (try a longer --timeout)` };
  if (err instanceof AgentUnreachableError) return { code: EXIT.unreachable, message: e.message };
  if (err instanceof ChecksumError) return { code: EXIT.checksum, message: e.message };
  if (err instanceof UnsupportedError) return { code: EXIT.unsupported, message: e.message };
  const sys = err as NodeJS.ErrnoException;
  if (sys?.code && typeof sys.code === 'string' && sys.syscall) return { code: EXIT.agentError, message: `${sys.message}` };
  return { code: EXIT.unreachable, message: e?.message ?? String(err) };
}
