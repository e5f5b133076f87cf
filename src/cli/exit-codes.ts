// The CLI's exit codes, in one table (the --help text derives from it; docs/cli.md lists the same, and
// a test holds the two equal), and the mapping from errors.
import {
  AddressError,
  AgentUnreachableError,
  ChecksumError,
  LocalKubeconfigError,
  QgaRemoteError,
  QgaTimeoutError,
  TooLargeError,
  UnsafeKubeconfigError,
  UnsupportedError,
} from '../host/errors.js';
import { UsageError } from './args.js';

/** One exit code: its name in code, its number, and what it means (for --help and the docs). */
export interface ExitCode {
  readonly code: number;
  readonly summary: string;
}

export const EXIT_CODES = {
  ok: { code: 0, summary: 'ok' },
  agentError: { code: 1, summary: 'the agent answered with an error (the command failed in the guest, or is disabled there)' },
  usage: {
    code: 2,
    summary: 'usage error (bad option, verb, command or address; missing token or URL; a kubeconfig that cannot be merged into)',
  },
  unreachable: {
    code: 3,
    summary: 'the agent or the hypervisor API could not be reached, refused the credentials, or did not answer in time',
  },
  someFailed: { code: 4, summary: 'fleet mode: at least one VM failed (the summary says which and why)' },
  checksum: { code: 5, summary: "cp: the guest's checksum or size does not match what was transferred" },
  unsupported: { code: 6, summary: 'not possible through this connector (a Proxmox VE API limit)' },
  unsafe: { code: 7, summary: "kubeconfig: the guest's file was refused as unsafe (the message says why); nothing was written" },
  tooLarge: {
    code: 8,
    summary: 'the guest sent more than a bound allows (--max-bytes, the size cp was told, a reply limit); nothing was written',
  },
  // rollout (docs/rollout.md#exit-codes); 2 and 3 mean there what they mean everywhere.
  gate: { code: 10, summary: 'rollout: a gate did not pass (the cluster was not healthy before a batch, or did not settle after one)' },
  node: {
    code: 11,
    summary: 'rollout: a node failed (its agent refused the reboot, it was not drained, or it did not come back in --node-timeout)',
  },
  state: { code: 12, summary: "rollout: the state file cannot be used (damaged, a symlink, another cluster's, in use)" },
  interrupted: { code: 130, summary: 'rollout: interrupted (Ctrl-C) at a safe point; --resume continues' },
  execFailed: {
    code: 255,
    summary: "exec: guestlink itself failed (otherwise the program's own status is passed through, 128+N for signal N)",
  },
} as const satisfies Record<string, ExitCode>;

/** The exit codes by name. */
export const EXIT = Object.fromEntries(Object.entries(EXIT_CODES).map(([k, v]) => [k, v.code])) as {
  readonly [K in keyof typeof EXIT_CODES]: (typeof EXIT_CODES)[K]['code'];
};

/** Exit code and message for an error that ended a verb (the message is raw: printers escape it). */
export function describeError(err: unknown): { code: number; message: string } {
  const e = err as Error;
  if (err instanceof UsageError || err instanceof AddressError || err instanceof LocalKubeconfigError)
    return { code: EXIT.usage, message: e.message };
  if (err instanceof QgaRemoteError) return { code: EXIT.agentError, message: `the agent answered ${err.errorClass}: ${err.desc}` };
  if (err instanceof QgaTimeoutError)
    return { code: EXIT.unreachable, message: `${e.message}; is the agent running? (try a longer --timeout)` };
  if (err instanceof AgentUnreachableError) return { code: EXIT.unreachable, message: e.message };
  if (err instanceof ChecksumError) return { code: EXIT.checksum, message: e.message };
  if (err instanceof UnsupportedError) return { code: EXIT.unsupported, message: e.message };
  if (err instanceof UnsafeKubeconfigError) return { code: EXIT.unsafe, message: e.message };
  if (err instanceof TooLargeError) return { code: EXIT.tooLarge, message: e.message };
  const sys = err as NodeJS.ErrnoException;
  if (sys?.code && typeof sys.code === 'string' && sys.syscall) return { code: EXIT.agentError, message: `${sys.message}` };
  return { code: EXIT.unreachable, message: e?.message ?? String(err) };
}
