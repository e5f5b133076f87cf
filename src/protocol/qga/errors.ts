// QGA's error classes and the error texts qemu-ga uses, in one place: every failure a client can see.

/** The two classes qemu-ga 7.2 sends; clients (libvirt, Proxmox) branch on them. */
export type QgaErrorClass = 'GenericError' | 'CommandNotFound';

/** An error that becomes `{"error": {"class", "desc"}}` on the wire. */
export class QgaError extends Error {
  constructor(
    readonly errorClass: QgaErrorClass,
    readonly desc: string,
    /** A stable code for logs and tests; never sent on the wire. */
    readonly code: string = 'GENERIC',
  ) {
    super(desc);
    this.name = 'QgaError';
  }
}

/** A GenericError with a stable code. */
export function genericError(desc: string, code = 'GENERIC'): QgaError {
  return new QgaError('GenericError', desc, code);
}

export const errors = {
  commandNotFound: (name: string) => new QgaError('CommandNotFound', `The command ${name} has not been found`, 'COMMAND_NOT_FOUND'),
  commandDisabled: (name: string, reason?: string) =>
    new QgaError('CommandNotFound', `Command ${name} has been disabled${reason ? `: ${reason}` : ''}`, 'COMMAND_DISABLED'),
  notAnObject: () => genericError('QMP input must be a JSON object', 'BAD_REQUEST'),
  lacksExecute: () => genericError("QMP input lacks member 'execute'", 'BAD_REQUEST'),
  memberNotString: (member: string) => genericError(`QMP input member '${member}' must be a string`, 'BAD_REQUEST'),
  argumentsNotObject: () => genericError("QMP input member 'arguments' must be an object", 'BAD_REQUEST'),
  memberUnexpected: (member: string) => genericError(`QMP input member '${member}' is unexpected`, 'BAD_REQUEST'),
  paramMissing: (name: string) => genericError(`Parameter '${name}' is missing`, 'BAD_ARGUMENT'),
  paramUnexpected: (name: string) => genericError(`Parameter '${name}' is unexpected`, 'BAD_ARGUMENT'),
  paramType: (name: string, expected: string) =>
    genericError(`Invalid parameter type for '${name}', expected: ${expected}`, 'BAD_ARGUMENT'),
  paramValue: (name: string, expected: string) => genericError(`Parameter '${name}' expects ${expected}`, 'BAD_ARGUMENT'),
  enumValue: (name: string, value: string) => genericError(`Parameter '${name}' does not accept value '${value}'`, 'BAD_ARGUMENT'),
  invalidParameter: (name: string) => genericError(`Invalid parameter '${name}'`, 'BAD_ARGUMENT'),
  invalidValue: (value: string, name: string) => genericError(`value '${value}' is invalid for argument ${name}`, 'BAD_ARGUMENT'),
  handleNotFound: (handle: number | bigint) => genericError(`handle '${handle}' has not been found`, 'BAD_HANDLE'),
  unsupported: (what?: string) =>
    genericError(
      what ? `this feature or command is not currently supported: ${what}` : 'this feature or command is not currently supported',
      'UNSUPPORTED',
    ),
  frozen: () => 'the agent is in frozen state',
} as const;

/** Maps any thrown value to a QgaError; unknown failures become GenericError with their message. */
export function toQgaError(err: unknown): QgaError {
  if (err instanceof QgaError) return err;
  // An error that names its own code (a back end's TALOS_UNAVAILABLE, KUBE_DRAIN_ABORTED, an errno)
  // is an expected failure with a reason; Node's ERR_* codes and code-less errors are bugs: INTERNAL.
  if (err instanceof Error) {
    const code = (err as { code?: unknown }).code;
    return genericError(err.message, typeof code === 'string' && code !== '' && !code.startsWith('ERR_') ? code : 'INTERNAL');
  }
  return genericError(String(err), 'INTERNAL');
}
