// Shared by the Talos integration tests: a double filled with the real-shaped fixtures, and QGA
// calls that return either the result or the error object, so assertions show both.
import { QgaClient, QgaRemoteError } from '../../src/host/client.js';
import { ADDRESSES, HOSTNAME, LINKS, MOUNT_STATUSES, MOUNTS } from '../../src/node/talos/fixtures.test-util.js';
import { JsonFloat, type JsonObject, type JsonValue } from '../../src/protocol/qga/json-value.js';
import type { TalosApiDouble } from '../doubles/talos-api.js';

export function fillFixtures(d: TalosApiDouble): void {
  d.state.resources.push(...LINKS, ...ADDRESSES, HOSTNAME, ...MOUNT_STATUSES);
  d.state.mounts.push(...MOUNTS);
}

export type Reply = { return: JsonValue } | { error: { class: string; desc: string } };

/** One QGA call on a fresh connection; guest-shutdown resolves after `timeoutMs` of silence. */
export async function qga(socket: string, execute: string, args?: JsonObject, timeoutMs = 5000): Promise<Reply> {
  const c = await QgaClient.connectUnix(socket);
  try {
    return { return: await c.call(execute, args, { timeoutMs }) };
  } catch (e) {
    if (e instanceof QgaRemoteError) return { error: { class: e.errorClass, desc: e.desc } };
    throw e;
  } finally {
    c.close();
  }
}

/** Waits until `cond` holds (polling every 20 ms) or fails after `ms`. */
export async function until(cond: () => boolean, ms = 5000, what = 'condition'): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

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
