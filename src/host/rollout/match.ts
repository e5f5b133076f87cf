// Which VM is which Node. By default the guest's host name (guest-get-host-name), lower-cased,
// is the Node's name — what the kubelet registers unless told otherwise; --node-map VM=NODE says
// it explicitly. A guest reports its own name, so a guest can lie: the match is refused when two
// VMs claim one Node, when a VM's addresses contradict the Node's (a cloned VM, or a lie that did
// not also forge the addresses), or when a name is not a valid Node name. Every VM must match
// before anything starts.
import type { Connector } from '../connectors/index.js';
import { runFleet } from '../fleet.js';
import { flattenInterfaces } from '../info.js';
import { RolloutError } from './errors.js';
import { isNodeName, printable } from './names.js';
import type { Target } from './plan.js';
import type { NodeView } from './views.js';

/** What a VM's agent says about itself. */
export interface GuestIdentity {
  vm: string;
  /** The connector's short name (libvirt domain, Proxmox VMID, socket basename): --node-map may use it. */
  vmName: string;
  hostName?: string;
  /** Global addresses the agent reports; undefined when it would not say (command disabled). */
  addresses?: string[];
  error?: string;
}

const isGlobal = (ip: string) => !/^(127\.|::1$|fe80:|169\.254\.)/i.test(ip);

/** Asks each VM's agent for its host name and addresses, at most `concurrency` at a time. */
export async function identifyGuests(
  connector: Connector,
  vms: readonly string[],
  o: { timeoutMs: number; concurrency: number },
): Promise<GuestIdentity[]> {
  const results = await runFleet(
    connector,
    vms,
    async (conn) => {
      const id: GuestIdentity = { vm: conn.address, vmName: conn.name };
      const h = (await conn.call('guest-get-host-name', undefined, { timeoutMs: o.timeoutMs })) as { 'host-name'?: unknown } | null;
      const name = h?.['host-name'];
      if (typeof name !== 'string') throw new RolloutError('ROLLOUT_MATCH', 'guest-get-host-name answered without a host-name');
      id.hostName = name;
      try {
        const ifs = flattenInterfaces(await conn.call('guest-network-get-interfaces', undefined, { timeoutMs: o.timeoutMs }));
        id.addresses = ifs.map((a) => a.ip).filter(isGlobal);
      } catch {
        // Disabled or not allowed: the address check is skipped for this VM (said in the plan).
      }
      return id;
    },
    { concurrency: o.concurrency },
  );
  return results.map((r, i) =>
    r.ok && r.value ? r.value : { vm: vms[i] as string, vmName: vms[i] as string, error: r.error?.message ?? 'no answer' },
  );
}

/** Parses --node-map entries "VM=NODE" (VM: the address or the connector's short name). */
export function parseNodeMap(entries: readonly string[]): Map<string, string> {
  const map = new Map<string, string>();
  for (const e of entries) {
    const eq = e.lastIndexOf('=');
    const vm = e.slice(0, eq);
    const node = e.slice(eq + 1);
    if (eq <= 0 || !isNodeName(node))
      throw new RolloutError('ROLLOUT_USAGE', `--node-map ${printable(e)}: expected VM=NODE with a valid Node name (libvirt:k8s-w1=w1)`);
    if (map.has(vm)) throw new RolloutError('ROLLOUT_USAGE', `--node-map names ${printable(vm)} twice`);
    map.set(vm, node);
  }
  return map;
}

/** Matches every guest to one Node, or throws ROLLOUT_MATCH listing every problem at once. */
export function matchTargets(guests: readonly GuestIdentity[], nodes: readonly NodeView[], nodeMap: ReadonlyMap<string, string>): Target[] {
  const byName = new Map(nodes.map((n) => [n.name, n]));
  const problems: string[] = [];
  const used = new Set<string>();
  const targets: Target[] = [];
  for (const g of guests) {
    const mapped = nodeMap.get(g.vm) ?? nodeMap.get(g.vmName);
    if (nodeMap.has(g.vm)) used.add(g.vm);
    else if (nodeMap.has(g.vmName)) used.add(g.vmName);
    const vm = printable(g.vm);
    if (mapped !== undefined) {
      const node = byName.get(mapped);
      if (!node) problems.push(`--node-map ${vm}=${printable(mapped)}: there is no Node ${printable(mapped)}`);
      else targets.push({ vm: g.vm, node: node.name, controlPlane: node.controlPlane, matchedBy: 'node-map' });
      continue;
    }
    if (g.error !== undefined) {
      problems.push(
        `${vm}: cannot ask its agent for its host name (${printable(g.error, 300)}); is the agent running? (or --node-map ${vm}=NODE)`,
      );
      continue;
    }
    const wanted = (g.hostName ?? '').toLowerCase();
    if (!isNodeName(wanted)) {
      problems.push(`${vm} reports the host name "${printable(g.hostName)}", which is not a valid Node name; use --node-map ${vm}=NODE`);
      continue;
    }
    const node = byName.get(wanted);
    if (!node) {
      problems.push(
        `${vm} reports the host name "${printable(wanted)}" but no Node has that name (Nodes: ${printable(
          nodes
            .map((n) => n.name)
            .slice(0, 10)
            .join(', '),
        )}${nodes.length > 10 ? ', ...' : ''}); use --node-map ${vm}=NODE`,
      );
      continue;
    }
    const theirs = node.addresses;
    if (g.addresses && g.addresses.length > 0 && theirs.length > 0 && !g.addresses.some((a) => theirs.includes(a))) {
      problems.push(
        `${vm} says it is Node ${printable(node.name)}, but none of its addresses (${printable(g.addresses.slice(0, 5).join(', '))}) is one of the Node's (${printable(theirs.slice(0, 5).join(', '))}): a cloned VM, or a guest lying about its name? If it is right, say so with --node-map ${vm}=${printable(node.name)}`,
      );
      continue;
    }
    targets.push({ vm: g.vm, node: node.name, controlPlane: node.controlPlane, matchedBy: 'host-name' });
  }
  for (const key of nodeMap.keys()) if (!used.has(key)) problems.push(`--node-map ${printable(key)}=...: no such VM among the targets`);
  const claims = new Map<string, string[]>();
  for (const t of targets) claims.set(t.node, [...(claims.get(t.node) ?? []), t.vm]);
  for (const [node, vms] of claims)
    if (vms.length > 1)
      problems.push(
        `${vms.map((v) => printable(v)).join(' and ')} all claim to be Node ${printable(node)}: refusing (one of them may be lying about its host name); use --node-map to say which VM is which`,
      );
  if (problems.length > 0)
    throw new RolloutError('ROLLOUT_MATCH', `cannot match every VM to its Node; nothing was started:\n  ${problems.join('\n  ')}`);
  return targets;
}
