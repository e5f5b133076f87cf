// Waiting for a condition in tests, one way: poll (every 20 ms unless told) until it holds or a bound passes. The bound
// only ends a test that would otherwise hang (it never asserts speed); each helper keeps the shape its
// callers read best (the value, a boolean, or a thrown error that names what was awaited).

type Maybe<T> = T | undefined | false | null;

/**
 * Polls (every `every` ms) until `f` (which may be async) is truthy or `ms` pass; the value, or undefined
 * when the bound passed first.
 */
export async function pollFor<T>(f: () => Maybe<T> | Promise<Maybe<T>>, ms = 10_000, every = 20): Promise<T | undefined> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await f();
    if (v) return v;
    if (Date.now() > end) return undefined;
    await new Promise((r) => setTimeout(r, every));
  }
}

/** Polls until `cond` holds; false when `ms` passed first. */
export async function pollUntil(cond: () => boolean | Promise<boolean>, ms = 5000): Promise<boolean> {
  return (await pollFor(async () => (await cond()) || undefined, ms)) !== undefined;
}

/** Polls until `cond` holds; throws `timed out waiting for <what>` when `ms` passed first. */
export async function waitFor(cond: () => boolean | Promise<boolean>, ms = 5000, what = 'condition'): Promise<void> {
  if (!(await pollUntil(cond, ms))) throw new Error(`timed out waiting for ${what}`);
}
