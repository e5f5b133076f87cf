// The one error the ISO writer throws for input it cannot represent; the message says what to change.

/** Input the image cannot hold (a name, a size, a volume id); code is stable for callers. */
export class IsoInputError extends Error {
  readonly code = 'ISO_INPUT';
}
