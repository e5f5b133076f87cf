// Reading what the talos verbs are given (schematic files, nodes.json, META values, machine configs),
// each under a byte cap, and the network flags both verbs share. All file reading for them is here.
import { readFileSync, statSync } from 'node:fs';
import { TalosInputError, TalosLimitError } from '../provision/talos/errors.js';
import type { StaticNetworkInput } from '../provision/talos/meta-network.js';

export type Values = Record<string, string | boolean | string[] | undefined>;

/** The network flags of `talos schematic`, `talos network` and `cloud-init --talos`. */
export const NETWORK_OPTIONS = {
  address: { type: 'string', multiple: true },
  gateway: { type: 'string', multiple: true },
  link: { type: 'string' },
  'link-mac': { type: 'string' },
  hostname: { type: 'string' },
  dns: { type: 'string', multiple: true },
  'time-server': { type: 'string', multiple: true },
  mtu: { type: 'string' },
} as const;

/** Caps (docs/security.md): bytes of any one input file, YAML nodes after aliases, nodes in nodes.json. */
export const CAP_OPTIONS = {
  'max-input-bytes': { type: 'string' },
  'max-yaml-nodes': { type: 'string' },
  'max-nodes': { type: 'string' },
} as const;

export const NETWORK_HELP = `  --address CIDR            static address with prefix (repeatable; IPv4 and/or IPv6)
  --gateway IP              default gateway (one IPv4 and one IPv6 at most; must be inside a subnet)
  --link NAME | --link-mac MAC   the link (ens18 for Proxmox virtio, enp1s0 for libvirt q35; a MAC
                            becomes Talos's alternative link name enx<mac>)
  --hostname NAME           host name (a dotted name also sets the domain)
  --dns IP                  DNS server (repeatable)
  --time-server HOST        NTP server (repeatable)
  --mtu N                   link MTU`;

export const CAP_HELP = `  --max-input-bytes N       largest input file read (default 1048576)
  --max-yaml-nodes N        most YAML nodes in one file, aliases counted each use (default 100000)
  --max-nodes N             most nodes in nodes.json (default 1000)`;

function positive(v: unknown, flag: string, dflt: number): number {
  if (v === undefined) return dflt;
  const n = Number(v);
  if (!Number.isSafeInteger(n) || n < 1) throw new TalosInputError(`--${flag} must be a positive whole number`);
  return n;
}

export interface Caps {
  maxBytes: number;
  maxNodes: number;
  maxDepth: number;
  maxFleet: number;
}

export function caps(values: Values): Caps {
  return {
    maxBytes: positive(values['max-input-bytes'], 'max-input-bytes', 1 << 20),
    maxNodes: positive(values['max-yaml-nodes'], 'max-yaml-nodes', 100_000),
    maxDepth: 64,
    maxFleet: positive(values['max-nodes'], 'max-nodes', 1000),
  };
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

const list = (v: unknown): string[] => (Array.isArray(v) ? (v as string[]) : []);

/** Whether any network flag is present. */
export function hasNetworkFlags(values: Values): boolean {
  return Object.keys(NETWORK_OPTIONS).some((k) => values[k] !== undefined);
}

/** The network flags as input for resolveStaticNetwork. */
export function networkInput(values: Values): StaticNetworkInput {
  const mtu = values.mtu === undefined ? undefined : Number(values.mtu);
  if (mtu !== undefined && !Number.isInteger(mtu)) throw new TalosInputError(`--mtu "${values.mtu}": a whole number is expected`);
  return {
    addresses: list(values.address),
    gateways: list(values.gateway),
    ...(values.link ? { link: values.link as string } : {}),
    ...(values['link-mac'] ? { linkMac: values['link-mac'] as string } : {}),
    ...(values.hostname !== undefined ? { hostname: values.hostname as string } : {}),
    dns: list(values.dns),
    timeServers: list(values['time-server']),
    ...(mtu !== undefined ? { mtu } : {}),
  };
}
