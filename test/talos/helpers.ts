// Shared by the Talos integration tests: a double filled with the real-shaped fixtures, and QGA
// calls that return either the result or the error object, so assertions show both.
import { ADDRESSES, HOSTNAME, LINKS, MOUNT_STATUSES, MOUNTS } from '../../src/node/talos/fixtures.test-util.js';
import { JsonFloat } from '../../src/protocol/qga/json-value.js';
import type { TalosApiDouble } from '../doubles/talos-api.js';

export function fillFixtures(d: TalosApiDouble): void {
  d.state.resources.push(...LINKS, ...ADDRESSES, HOSTNAME, ...MOUNT_STATUSES);
  d.state.mounts.push(...MOUNTS);
}

/** Waits until `cond` holds (polling every 20 ms) or fails after `ms` (test/poll.ts). */
export { waitFor as until } from '../poll.js';
// QGA calls come from the one QGA test client; re-exported for the Talos tests.
export { qga, type Reply } from '../qga-client.js';

/** JSON for assertion messages (bigints as strings). */
export function show(v: unknown): string {
  return JSON.stringify(v, (_k, x) => (typeof x === 'bigint' ? x.toString() : x));
}

/** A reply value as plain JS for deepEqual: ordinary prototypes, floats and safe integers as numbers. */
export function plain(v: unknown): unknown {
  if (v instanceof JsonFloat) return v.value;
  if (typeof v === 'bigint') return Number.isSafeInteger(Number(v)) ? Number(v) : v;
  if (Array.isArray(v)) return v.map(plain);
  if (v !== null && typeof v === 'object') return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, plain(x)]));
  return v;
}
