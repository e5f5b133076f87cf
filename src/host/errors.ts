// Every failure the host toolkit can report, one class each with a stable `code`; the CLI maps
// them to its documented exit codes, and each message says what to try next.

/** An error reply from the agent, with its QGA class (GenericError, CommandNotFound, ...). */
export class QgaRemoteError extends Error {
  readonly code = 'QGA_REMOTE';
  constructor(
    readonly errorClass: string,
    readonly desc: string,
  ) {
    super(`${errorClass}: ${desc}`);
  }
  /** True when the command is unknown to the agent or disabled by its policy. */
  get notAvailable(): boolean {
    return this.errorClass === 'CommandNotFound';
  }
}

/** The agent did not answer within the deadline. */
export class QgaTimeoutError extends Error {
  readonly code = 'QGA_TIMEOUT';
}

/** The agent (or the hypervisor API in front of it) cannot be reached: socket, virsh, HTTP, TLS, auth. */
export class AgentUnreachableError extends Error {
  readonly code = 'AGENT_UNREACHABLE';
}

/** A VM address that no connector understands. */
export class AddressError extends Error {
  readonly code = 'BAD_ADDRESS';
}

/** The transferred bytes do not match what the guest holds. */
export class ChecksumError extends Error {
  readonly code = 'CHECKSUM_MISMATCH';
}

/** The path through this hypervisor cannot carry the request (a Proxmox API size limit, a missing endpoint). */
export class UnsupportedError extends Error {
  readonly code = 'UNSUPPORTED';
}

/**
 * The guest sent something guestlink will not write or merge on this host (a kubeconfig that would run a
 * program, read a host file or send credentials elsewhere; hostile YAML). Nothing was written.
 */
export class UnsafeKubeconfigError extends Error {
  readonly code = 'UNSAFE_KUBECONFIG';
}

/** The guest sent more than a cap allows (a file, a reply, program output); reading stopped at the cap. */
export class TooLargeError extends Error {
  readonly code = 'TOO_LARGE';
}

/** The user's own kubeconfig cannot be merged into (not YAML, not a map); it is left as it is. */
export class LocalKubeconfigError extends Error {
  readonly code = 'BAD_LOCAL_KUBECONFIG';
}
