// The Talos nocloud seed: the alternative to a META-baked image that needs no factory round trip. One
// `cidata` ISO (the existing writer) holds the machine config as user-data, network-config v2 with the
// static address, and meta-data with hostname and instance-id; one CD-ROM, which fits the Proxmox
// Terraform provider's limit. Talos's nocloud platform reads exactly these three files.
import { parseAllDocuments, stringify } from 'yaml';
import { networkConfigObject } from '../cloud-init/render.js';
import { type SeedFile, seedIso } from '../cloud-init/seed.js';
import { TalosInputError } from './errors.js';
import type { StaticNetwork } from './meta-network.js';

/**
 * Checks that `text` is a Talos machine config: its first document has `version: v1alpha1` and both
 * `machine` and `cluster` (what `talosctl gen config` writes); later documents (apiVersion/kind) may follow.
 * A #cloud-config file is refused: Talos would not run it.
 */
export function checkMachineConfig(text: string, what: string): void {
  if (/^#cloud-config\b/m.test(text.trimStart().split('\n')[0] ?? ''))
    throw new TalosInputError(
      `${what} is a #cloud-config file; with --talos, user-data is a Talos machine config (talosctl gen config writes controlplane.yaml and worker.yaml)`,
    );
  const docs = parseAllDocuments(text, { uniqueKeys: true, prettyErrors: false });
  const list = Array.isArray(docs) ? docs : [];
  const first = list[0];
  if (!first) throw new TalosInputError(`${what} is empty: a Talos machine config is expected`);
  for (const d of list) {
    const e = d.errors[0];
    if (e) throw new TalosInputError(`${what}: not valid YAML (${e.message.split('\n')[0]})`);
  }
  let doc: unknown;
  try {
    doc = first.toJS({ maxAliasCount: 0 });
  } catch (err) {
    // maxAliasCount 0: a machine config (it holds the cluster's secrets) has no use for aliases.
    throw new TalosInputError(`${what}: ${(err as Error).message.split('\n')[0]} (write the config without YAML aliases)`);
  }
  const obj = doc && typeof doc === 'object' && !Array.isArray(doc) ? (doc as Record<string, unknown>) : undefined;
  if (obj?.version !== 'v1alpha1')
    throw new TalosInputError(
      `${what}: the first document must have "version: v1alpha1" (a Talos machine config from talosctl gen config)`,
    );
  for (const key of ['machine', 'cluster'])
    if (!obj[key] || typeof obj[key] !== 'object') throw new TalosInputError(`${what}: the machine config has no "${key}" section`);
  const machine = obj.machine as Record<string, unknown>;
  if (typeof machine.type === 'string' && !['controlplane', 'worker', 'init'].includes(machine.type))
    throw new TalosInputError(`${what}: machine.type "${machine.type}" is not controlplane, worker or init`);
}

/** The role a machine config declares (machine.type), when it says. */
export function machineConfigRole(text: string): string | undefined {
  const docs = parseAllDocuments(text);
  const first = Array.isArray(docs) ? docs[0] : undefined;
  let js: { machine?: { type?: unknown } } | undefined;
  try {
    js = first?.toJS({ maxAliasCount: 0 }) as typeof js;
  } catch {
    return undefined;
  }
  return typeof js?.machine?.type === 'string' ? js.machine.type : undefined;
}

export interface TalosSeedInput {
  machineConfig: string;
  network: StaticNetwork;
  /** The MAC to match in network-config (else the link name is used as is). */
  mac?: string;
  hostname: string;
  instanceId?: string;
}

// YAML 1.1 rules on output: cloud-init (PyYAML) reads 1.1, where an unquoted MAC such as
// 52:54:00:12:34:56 is a base-60 integer; the 1.1 stringifier quotes it (Talos's go-yaml reads either).
const YAML_OPTIONS = { lineWidth: 0, minContentWidth: 0, version: '1.1' } as const;

/** The three seed files. */
export function talosSeedFiles(input: TalosSeedInput): SeedFile[] {
  const n = input.network;
  const fqdn = n.domainname ? `${input.hostname}.${n.domainname}` : input.hostname;
  const net = networkConfigObject({
    mode: 'static',
    interface: n.link,
    ...(input.mac ? { mac: input.mac.toLowerCase().replace(/-/g, ':') } : {}),
    addresses: n.addresses.map((a) => `${a.text}/${a.prefix}`),
    gateways: n.gateways.map((g) => g.text),
    dns: n.dns.map((d) => d.text),
    search: n.domainname ? [n.domainname] : [],
  }) as { ethernets: Record<string, Record<string, unknown>> };
  if (n.mtu) for (const eth of Object.values(net.ethernets)) eth.mtu = n.mtu;
  return [
    { name: 'user-data', text: input.machineConfig },
    {
      name: 'meta-data',
      text: stringify(
        { 'instance-id': input.instanceId ?? `iid-${input.hostname}`, 'local-hostname': fqdn, hostname: input.hostname },
        YAML_OPTIONS,
      ),
    },
    { name: 'network-config', text: stringify(net, YAML_OPTIONS) },
  ];
}

/** The cidata ISO with those files. */
export function talosSeedIso(files: readonly SeedFile[], date: Date): Buffer {
  return seedIso(files, date);
}
