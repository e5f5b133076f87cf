// The fleet form: nodes.json (a cluster's nodes with name, static address and role, and what they
// share: gateway, DNS, link, the control plane's VIP) read strictly (unknown fields refused by name,
// duplicates refused), so one file gives one schematic or seed per node.
import { TalosInputError, TalosLimitError } from './errors.js';
import { DEFAULT_LOAD_LIMITS, type LNode, type LoadLimits, loadYaml } from './goyaml/load.js';
import { inSubnet, parseCidr, parseIp } from './ip.js';
import type { StaticNetworkInput } from './meta-network.js';

export type Role = 'controlplane' | 'worker';

/** One node of the fleet, with the cluster's shared settings already applied. */
export interface FleetNode {
  name: string;
  role: Role;
  network: StaticNetworkInput;
  /** Path from nodes.json (relative to it), for `cloud-init --talos`. */
  machineConfig?: string;
}

export interface Fleet {
  name?: string;
  vip?: string;
  nodes: FleetNode[];
}

/** Defaults the command line gives for every node (a node's own field wins). */
export interface FleetDefaults {
  gateways: readonly string[];
  dns: readonly string[];
  timeServers: readonly string[];
  link?: string;
  mtu?: number;
}

/** The default cap on nodes in one file (flag --max-nodes). */
export const DEFAULT_MAX_FLEET = 1000;

type Reader = (n: LNode, path: string) => void;

function fields(n: LNode, path: string, what: string, known: Record<string, Reader>): void {
  if (n.kind !== 'map') throw new TalosInputError(`${what} line ${n.line}: ${path || 'the top level'} must be an object`);
  const seen = new Set<string>();
  for (const [k, v] of n.pairs) {
    if (k.kind !== 'scalar') throw new TalosInputError(`${what} line ${k.line}: keys must be strings`);
    if (seen.has(k.value)) throw new TalosInputError(`${what} line ${k.line}: "${k.value}" is given twice in ${path || 'the top level'}`);
    seen.add(k.value);
    const r = Object.hasOwn(known, k.value) ? known[k.value] : undefined;
    if (!r)
      throw new TalosInputError(
        `${what} line ${k.line}: unknown field "${k.value}" in ${path || 'the top level'} (known: ${Object.keys(known).join(', ')})`,
      );
    r(v, path ? `${path}.${k.value}` : k.value);
  }
}

function text(n: LNode, path: string, what: string): string {
  if (n.kind !== 'scalar') throw new TalosInputError(`${what} line ${n.line}: ${path} must be a string`);
  return n.value;
}

function texts(n: LNode, path: string, what: string): string[] {
  if (n.kind === 'scalar') return [n.value];
  if (n.kind !== 'seq') throw new TalosInputError(`${what} line ${n.line}: ${path} must be a string or a list of strings`);
  return n.items.map((i, k) => text(i, `${path}[${k}]`, what));
}

function integer(n: LNode, path: string, what: string): number {
  if (n.kind !== 'scalar' || !/^\d{1,6}$/.test(n.value))
    throw new TalosInputError(`${what} line ${n.line}: ${path} must be a whole number`);
  return Number(n.value);
}

/** Reads nodes.json; `what` names it in messages. */
export function parseFleet(
  textIn: string,
  defaults: FleetDefaults,
  what = 'nodes.json',
  limits: LoadLimits = DEFAULT_LOAD_LIMITS,
  maxNodes = DEFAULT_MAX_FLEET,
): Fleet {
  const root = loadYaml(textIn, what, limits);
  const cluster: { name?: string; vip?: string; gateways?: string[]; dns?: string[]; link?: string; mtu?: number; timeServers?: string[] } =
    {};
  let list: LNode | undefined;
  if (root.kind === 'seq') list = root;
  else
    fields(root, '', what, {
      cluster: (v, p) =>
        fields(v, p, what, {
          name: (x, q) => {
            cluster.name = text(x, q, what);
          },
          vip: (x, q) => {
            cluster.vip = text(x, q, what);
          },
          gateway: (x, q) => {
            cluster.gateways = texts(x, q, what);
          },
          dns: (x, q) => {
            cluster.dns = texts(x, q, what);
          },
          link: (x, q) => {
            cluster.link = text(x, q, what);
          },
          mtu: (x, q) => {
            cluster.mtu = integer(x, q, what);
          },
          timeServers: (x, q) => {
            cluster.timeServers = texts(x, q, what);
          },
        }),
      nodes: (v) => {
        list = v;
      },
    });
  if (list?.kind !== 'seq' || list.items.length === 0)
    throw new TalosInputError(`${what}: a non-empty "nodes" list (or a top-level list) is expected`);
  if (list.items.length > maxNodes)
    throw new TalosLimitError(`${what} lists ${list.items.length} nodes; at most ${maxNodes} (raise --max-nodes if it is meant to be)`);
  const nodes = list.items.map((item, i): FleetNode => {
    const path = `nodes[${i}]`;
    const n: {
      name?: string;
      role?: string;
      addresses?: string[];
      mac?: string;
      link?: string;
      gateways?: string[];
      dns?: string[];
      machineConfig?: string;
    } = {};
    fields(item, path, what, {
      name: (x, q) => {
        n.name = text(x, q, what);
      },
      role: (x, q) => {
        n.role = text(x, q, what);
      },
      address: (x, q) => {
        n.addresses = texts(x, q, what);
      },
      mac: (x, q) => {
        n.mac = text(x, q, what);
      },
      link: (x, q) => {
        n.link = text(x, q, what);
      },
      gateway: (x, q) => {
        n.gateways = texts(x, q, what);
      },
      dns: (x, q) => {
        n.dns = texts(x, q, what);
      },
      machineConfig: (x, q) => {
        n.machineConfig = text(x, q, what);
      },
    });
    if (!n.name || !/^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/i.test(n.name))
      throw new TalosInputError(`${what} ${path}: "name" must be a host name (letters, digits, inner hyphens)`);
    if (n.role !== 'controlplane' && n.role !== 'worker')
      throw new TalosInputError(`${what} ${path} (${n.name}): "role" must be controlplane or worker`);
    if (!n.addresses?.length) throw new TalosInputError(`${what} ${path} (${n.name}): "address" (CIDR, e.g. 192.0.2.11/24) is required`);
    const link = n.link ?? (n.mac ? undefined : (cluster.link ?? defaults.link));
    return {
      name: n.name,
      role: n.role,
      network: {
        addresses: n.addresses,
        gateways: n.gateways ?? cluster.gateways ?? defaults.gateways,
        ...(link ? { link } : {}),
        ...(n.mac ? { linkMac: n.mac } : {}),
        hostname: n.name,
        dns: n.dns ?? cluster.dns ?? defaults.dns,
        timeServers: cluster.timeServers ?? defaults.timeServers,
        ...((cluster.mtu ?? defaults.mtu) !== undefined ? { mtu: cluster.mtu ?? defaults.mtu } : {}),
      },
      ...(n.machineConfig ? { machineConfig: n.machineConfig } : {}),
    };
  });
  checkFleet(nodes, cluster.vip, what);
  return { ...(cluster.name ? { name: cluster.name } : {}), ...(cluster.vip ? { vip: cluster.vip } : {}), nodes };
}

/** Names and addresses unique, a control plane present, the VIP free and inside the nodes' subnet. */
function checkFleet(nodes: readonly FleetNode[], vip: string | undefined, what: string): void {
  const names = new Map<string, number>();
  const addrs = new Map<string, string>();
  nodes.forEach((n, i) => {
    if (names.has(n.name))
      throw new TalosInputError(`${what}: node name ${n.name} is used twice (nodes[${names.get(n.name)}] and nodes[${i}])`);
    names.set(n.name, i);
    for (const a of n.network.addresses) {
      const ip = parseCidr(a, `${what} ${n.name} address`).text;
      const other = addrs.get(ip);
      if (other) throw new TalosInputError(`${what}: address ${ip} is given to both ${other} and ${n.name}`);
      addrs.set(ip, n.name);
    }
  });
  if (!nodes.some((n) => n.role === 'controlplane'))
    throw new TalosInputError(`${what}: no node has role controlplane; a cluster needs one`);
  if (vip) {
    const v = parseIp(vip, `${what} cluster.vip`);
    if (addrs.has(v.text))
      throw new TalosInputError(`${what}: the VIP ${v.text} is also the address of ${addrs.get(v.text)}; it must be free`);
    const cps = nodes.filter((n) => n.role === 'controlplane');
    for (const cp of cps)
      if (!cp.network.addresses.some((a) => inSubnet(parseCidr(a, `${what} ${cp.name} address`), v)))
        throw new TalosInputError(
          `${what}: the VIP ${v.text} is outside the subnet of control plane ${cp.name}; Talos moves a VIP only within one layer-2 subnet`,
        );
  }
}
