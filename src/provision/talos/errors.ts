// Errors for Talos provisioning input, one class per failure with a stable code; every message names
// what was wrong (the field, the line) and what to do instead.

/** A schematic file, flag value, nodes.json or machine config that cannot be used. */
export class TalosInputError extends Error {
  readonly code = 'TALOS_INPUT';
  constructor(
    message: string,
    /** 1-based line in the input file, when the problem has one. */
    readonly line?: number,
    /** The error as go-yaml's decoder words it (what the Image Factory answers with HTTP 400). */
    readonly goMessage?: string,
  ) {
    super(message);
  }
}

/** Input over one of the documented caps (size, YAML nodes, alias uses, nesting). */
export class TalosLimitError extends Error {
  readonly code = 'TALOS_LIMIT';
}
