// A small structural checker for the rollout's state file, so the file is typed from one description
// and anything else is refused with the path of the first wrong field. It replaces valibot, which only
// this file used: a dozen field types do not need a schema library in the CLI's bundle.

/** The first mismatch found: where (a dot path such as nodes.3.status) and what was expected. */
export class ShapeError extends Error {
  constructor(
    readonly path: string,
    message: string,
  ) {
    super(message);
    this.name = 'ShapeError';
  }
}

/** One field's check; `optional` marks a field that may be absent. */
export interface Shape<T> {
  readonly check: (value: unknown, path: string) => T;
  readonly optional?: true;
}

/** The type a shape accepts. */
export type Infer<S> = S extends Shape<infer T> ? T : never;

type Fields = Record<string, Shape<unknown>>;
type OptionalKeys<F extends Fields> = { [K in keyof F]: F[K] extends { optional: true } ? K : never }[keyof F];
type ObjectOf<F extends Fields> = { [K in Exclude<keyof F, OptionalKeys<F>>]: Infer<F[K]> } & {
  [K in OptionalKeys<F>]?: Exclude<Infer<F[K]>, undefined>;
};

const fail = (path: string, message: string): never => {
  throw new ShapeError(path, message);
};

/** A string of at most `max` characters. */
export const str = (max = 4096): Shape<string> => ({
  check: (v, p) => (typeof v === 'string' && v.length <= max ? v : fail(p, `a string of at most ${max} characters is expected`)),
});

/** An ISO 8601 timestamp as Date.prototype.toISOString writes it (2026-01-02T03:04:05.678Z). */
export const isoTime: Shape<string> = {
  check: (v, p) =>
    typeof v === 'string' && /^\d{4}-\d\d-\d\dT\d\d:\d\d(:\d\d(\.\d{1,9})?)?(Z|[+-]\d\d:\d\d)$/.test(v) && !Number.isNaN(Date.parse(v))
      ? v
      : fail(p, 'an ISO 8601 timestamp is expected'),
};

/** true or false. */
export const bool: Shape<boolean> = { check: (v, p) => (typeof v === 'boolean' ? v : fail(p, 'true or false is expected')) };

/** A finite number of at least `min`; an integer when `integer`. */
export const num = (min: number, integer = true): Shape<number> => ({
  check: (v, p) =>
    typeof v === 'number' && Number.isFinite(v) && v >= min && (!integer || Number.isSafeInteger(v))
      ? v
      : fail(p, `${integer ? 'an integer' : 'a number'} of at least ${min} is expected`),
});

/** One of the given strings (or the one literal value). */
export const oneOf = <const T extends string | number>(choices: readonly T[]): Shape<T> => ({
  check: (v, p) => (choices.includes(v as T) ? (v as T) : fail(p, `one of ${choices.join(', ')} is expected`)),
});

/** The field may be absent (undefined); when present it must match `s`. */
export const optional = <T>(s: Shape<T>): Shape<T | undefined> & { optional: true } => ({
  check: (v, p) => (v === undefined ? undefined : s.check(v, p)),
  optional: true,
});

/** An array whose every item matches `item`. */
export const array = <T>(item: Shape<T>): Shape<T[]> => ({
  check: (v, p) => (Array.isArray(v) ? v.map((x, i) => item.check(x, `${p}.${i}`)) : fail(p, 'an array is expected')),
});

/** A plain object with exactly these fields (an unknown field is refused: a newer or foreign file). */
export const strictObject = <F extends Fields>(fields: F): Shape<ObjectOf<F>> => ({
  check: (v, p) => {
    if (typeof v !== 'object' || v === null || Array.isArray(v)) return fail(p, 'an object is expected');
    const at = (k: string) => (p ? `${p}.${k}` : k);
    for (const k of Object.keys(v)) if (!Object.hasOwn(fields, k)) fail(at(k), 'no such field');
    const out: Record<string, unknown> = {};
    for (const [k, s] of Object.entries(fields)) {
      const x = (v as Record<string, unknown>)[k];
      if (x === undefined && !s.optional) fail(at(k), 'is missing');
      const checked = s.check(x, at(k));
      if (checked !== undefined) out[k] = checked;
    }
    return out as ObjectOf<F>;
  },
});
