// Reading what the talos verbs are given (schematic files, nodes.json, META values, machine configs),
// each under a byte cap, and the network flags both verbs share (their table: talos-options.ts). All
// file reading for them is here.
import { readFileSync, statSync } from 'node:fs';
import { TalosInputError, TalosLimitError } from '../provision/talos/errors.js';
import type { StaticNetworkInput } from '../provision/talos/meta-network.js';
import { type CapOptions, type NetworkOptions, TALOS_NETWORK_OPTIONS } from './talos-options.js';

export interface Caps {
  maxBytes: number;
  maxNodes: number;
  maxDepth: number;
  maxFleet: number;
}

/** The caps as the readers take them; maxDepth is fixed (64 levels is far beyond any real schematic or nodes file). */
export function caps(o: CapOptions): Caps {
  return { maxBytes: o.maxInputBytes, maxNodes: o.maxYamlNodes, maxDepth: 64, maxFleet: o.maxNodes };
}

/** Reads a file (or stdin for "-") of at most `max` bytes; the size is checked before reading. */
export async function readInput(path: string, max: number, stdin: NodeJS.ReadableStream, what: string): Promise<string> {
  if (path === '-') {
    const chunks: Buffer[] = [];
    let total = 0;
    for await (const c of stdin) {
      const b = Buffer.isBuffer(c) ? c : Buffer.from(c as string);
      total += b.length;
      if (total > max)
        throw new TalosLimitError(`${what} from stdin is larger than ${max} bytes (raise --max-input-bytes if it is meant to be)`);
      chunks.push(b);
    }
    return Buffer.concat(chunks).toString('utf8');
  }
  let size: number;
  try {
    const st = statSync(path);
    if (!st.isFile()) throw new TalosInputError(`${what} ${path} is not a regular file`);
    size = st.size;
  } catch (err) {
    if (err instanceof TalosInputError) throw err;
    throw new TalosInputError(`cannot read ${what} ${path}: ${(err as Error).message}`);
  }
  if (size > max)
    throw new TalosLimitError(`${what} ${path} is ${size} bytes, more than ${max} (raise --max-input-bytes if it is meant to be)`);
  const buf = readFileSync(path);
  if (buf.length > max) throw new TalosLimitError(`${what} ${path} grew past ${max} bytes while being read`);
  return buf.toString('utf8');
}

/** Whether any network flag was given. */
export function hasNetworkFlags(given: ReadonlySet<string>): boolean {
  return TALOS_NETWORK_OPTIONS.some((o) => given.has(o.key));
}

/** The network flags as input for resolveStaticNetwork. */
export function networkInput(o: NetworkOptions): StaticNetworkInput {
  return {
    addresses: [...o.address],
    gateways: [...o.gateway],
    ...(o.link ? { link: o.link } : {}),
    ...(o.linkMac ? { linkMac: o.linkMac } : {}),
    ...(o.hostname !== undefined ? { hostname: o.hostname } : {}),
    dns: [...o.dns],
    timeServers: [...o.timeServer],
    ...(o.mtu !== undefined ? { mtu: o.mtu } : {}),
  };
}
