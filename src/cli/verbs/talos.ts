// guestlink talos schematic|network: Image Factory schematics with the factory's exact IDs (offline),
// META key 10 static networking from plain flags, registration with a factory and the asset URLs, one
// schematic per node from nodes.json, and files for Terraform (docs/talos-images.md).
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { FactoryError, registerSchematic, SchematicIdMismatchError } from '../../host/image-factory.js';
import { type Arch, type Assets, assetUrls, normalizeVersion, type Platform } from '../../provision/talos/assets.js';
import { TalosInputError, TalosLimitError } from '../../provision/talos/errors.js';
import { renderPlatformNetworkConfig, resolveStaticNetwork, type StaticNetwork } from '../../provision/talos/meta-network.js';
import { type Fleet, parseFleet } from '../../provision/talos/nodes.js';
import { canonicalYaml, type MetaValue, type Schematic, schematicId } from '../../provision/talos/schematic.js';
import { buildSchematic, parseMetaKey } from '../../provision/talos/schematic-build.js';
import { decodeSchematic } from '../../provision/talos/schematic-decode.js';
import { helpLines, type SettingSpec } from '../../settings/index.js';
import { writePrivate } from '../cloud-init.js';
import { prettyJson } from '../output.js';
import { caps, hasNetworkFlags, networkInput, readInput } from '../talos-input.js';
import {
  NETWORK_VERB_OPTIONS,
  NETWORK_VERB_OWN_OPTIONS,
  parseTalosArgs,
  SCHEMATIC_OPTIONS,
  SCHEMATIC_OWN_OPTIONS,
  TALOS_CAP_OPTIONS,
  TALOS_NETWORK_OPTIONS,
} from '../talos-options.js';
import type { Io } from './types.js';

/** Exit codes of the talos verbs (docs/cli.md). */
export const TALOS_EXIT = { ok: 0, writeFailed: 1, usage: 2, factory: 3, mismatch: 5 } as const;

type TalosIo = Io & { env: Readonly<Record<string, string | undefined>> };

const width = 30;
const lines = (table: readonly SettingSpec[]) => helpLines(table, width).join('\n');
// --help is in the schematic's table; shown once.
const own = (table: readonly SettingSpec[]) => lines(table.filter((s) => s.action === undefined));

/** `guestlink talos --help`: the synopsis and prose by hand, every option from the tables (talos-options.ts). */
export function talosUsage(): string {
  return `Usage:
  guestlink talos schematic [--extension NAME]... [--kernel-arg ARG]... [--meta KEY=VALUE|KEY=@FILE]...
                            [network flags] [-f SCHEMATIC|-] [--nodes nodes.json] [-o yaml|json|id|summary]
                            [--factory URL [--talos-version V [--platform metal|nocloud] [--arch amd64|arm64]
                            [--secureboot]]] [--output-dir DIR]
  guestlink talos network [network flags] [-o yaml|json]

talos schematic prints the Image Factory schematic in its canonical form (-o yaml: exactly the bytes
the factory hashes; the ID goes to stderr) or its ID (-o id), computed as the factory computes it.
Extensions given as flags are sorted; a --file schematic keeps its order. Network flags embed the
static network as META key 10 (read by Talos on the metal platform).
${lines(SCHEMATIC_OWN_OPTIONS)}
talos network prints the PlatformNetworkConfig YAML Talos reads from META key 10.
${own(NETWORK_VERB_OWN_OPTIONS)}
Network flags (both):
${lines(TALOS_NETWORK_OPTIONS)}
Caps (talos schematic):
${lines(TALOS_CAP_OPTIONS)}
Exit codes: 0 ok, 1 a file could not be written, 2 bad input, 3 the factory refused or is unreachable,
5 the factory's schematic ID differs from the one computed here.
`;
}

interface Item {
  name?: string;
  role?: string;
  addresses?: string[];
  schematic: Schematic;
  canonical: string;
  id: string;
  assets?: Assets;
}

/** Runs `guestlink talos ...`; returns the exit code. */
export async function talosVerb(argv: readonly string[], io: TalosIo): Promise<number> {
  const [sub, ...rest] = argv;
  try {
    if (sub === undefined || sub === '--help' || sub === '-h' || sub === 'help') {
      io.stdout.write(talosUsage());
      return sub === undefined ? TALOS_EXIT.usage : TALOS_EXIT.ok;
    }
    if (sub === 'network') return networkVerb(rest, io);
    if (sub === 'schematic') return await schematicVerb(rest, io);
    throw new TalosInputError(`unknown talos command "${sub}": schematic or network`);
  } catch (err) {
    return report(err, io);
  }
}

function report(err: unknown, io: TalosIo): number {
  const msg = (err as Error).message;
  if (err instanceof SchematicIdMismatchError) {
    io.stderr.write(`guestlink talos: ${msg}\n`);
    return TALOS_EXIT.mismatch;
  }
  if (err instanceof FactoryError) {
    io.stderr.write(`guestlink talos: ${msg}\n`);
    return TALOS_EXIT.factory;
  }
  if (err instanceof TalosInputError || err instanceof TalosLimitError || false) {
    io.stderr.write(`guestlink talos: ${msg}\n(see guestlink talos --help)\n`);
    return TALOS_EXIT.usage;
  }
  throw err;
}

function networkVerb(argv: readonly string[], io: TalosIo): number {
  const { options: o, help } = parseTalosArgs(NETWORK_VERB_OPTIONS, argv);
  if (help) {
    io.stdout.write(talosUsage());
    return TALOS_EXIT.ok;
  }
  const yaml = renderPlatformNetworkConfig(resolveStaticNetwork(networkInput(o)));
  io.stdout.write(o.output === 'json' ? `${prettyJson({ key: 10, value: yaml })}\n` : yaml);
  return TALOS_EXIT.ok;
}

async function metaFlags(entries: readonly string[], io: TalosIo, maxBytes: number): Promise<MetaValue[]> {
  const out: MetaValue[] = [];
  for (const m of entries) {
    const eq = m.indexOf('=');
    if (eq <= 0) throw new TalosInputError(`--meta "${m}": KEY=VALUE or KEY=@FILE is expected`);
    const key = parseMetaKey(m.slice(0, eq));
    const raw = m.slice(eq + 1);
    const value = raw.startsWith('@') ? await readInput(raw.slice(1), maxBytes, io.stdin, `--meta ${key} file`) : raw;
    out.push({ key, value });
  }
  return out;
}

async function schematicVerb(argv: readonly string[], io: TalosIo): Promise<number> {
  const { options: v, given, help } = parseTalosArgs(SCHEMATIC_OPTIONS, argv);
  if (help) {
    io.stdout.write(talosUsage());
    return TALOS_EXIT.ok;
  }
  const cap = caps(v);
  const limits = { maxBytes: cap.maxBytes, maxNodes: cap.maxNodes, maxDepth: cap.maxDepth };
  const factory = v.factory;
  const fleetFile = v.nodes;
  const format = v.output ?? (factory || fleetFile ? 'summary' : 'yaml');
  if (v.talosVersion !== undefined && !factory)
    throw new TalosInputError('asset URLs need --factory URL: the factory serves images only for schematics registered with it');
  for (const f of ['platform', 'arch', 'secureboot'])
    if (given.has(f) && v.talosVersion === undefined) throw new TalosInputError(`--${f} needs --talos-version`);
  const version = v.talosVersion !== undefined ? normalizeVersion(v.talosVersion) : undefined;
  const { platform, arch } = v;
  const timeoutS = v.factoryTimeout;
  if (fleetFile && format === 'yaml')
    throw new TalosInputError('-o yaml prints one schematic; with --nodes use --output-dir, -o json or -o id');

  const fileArg = v.file;
  const base = fileArg
    ? decodeSchematic(
        await readInput(fileArg, cap.maxBytes, io.stdin, 'schematic'),
        fileArg === '-' ? 'schematic (stdin)' : fileArg,
        limits,
      )
    : undefined;
  const parts = {
    extensions: [...v.extension],
    kernelArgs: [...v.kernelArg],
    meta: await metaFlags(v.meta, io, cap.maxBytes),
  };
  const make = (network: StaticNetwork | undefined): Item => {
    const schematic = buildSchematic({ ...parts, ...(network ? { network } : {}) }, base);
    const canonical = canonicalYaml(schematic);
    return { schematic, canonical, id: schematicId(canonical) };
  };

  let fleet: Fleet | undefined;
  const items: Item[] = [];
  if (fleetFile) {
    const nv = networkInput(v);
    if (nv.addresses.length || nv.hostname || nv.linkMac)
      throw new TalosInputError('with --nodes, addresses, host names and MACs come from the nodes file');
    fleet = parseFleet(await readInput(fleetFile, cap.maxBytes, io.stdin, 'nodes file'), nv, fleetFile, limits, cap.maxFleet);
    for (const n of fleet.nodes) {
      try {
        items.push({ ...make(resolveStaticNetwork(n.network)), name: n.name, role: n.role, addresses: [...n.network.addresses] });
      } catch (err) {
        if (err instanceof TalosInputError) throw new TalosInputError(`${fleetFile}, node ${n.name}: ${err.message}`);
        throw err;
      }
    }
  } else {
    items.push(make(hasNetworkFlags(given) ? resolveStaticNetwork(networkInput(v)) : undefined));
  }
  if (platform !== 'metal' && version && items.some((i) => i.schematic.customization.meta.some((m) => m.key === 10)) && !v.quiet)
    io.stderr.write(`guestlink talos: warning: META key 10 is read only on the metal platform; a ${platform} image ignores it\n`);

  if (factory) {
    for (const item of items) {
      await registerSchematic({ url: factory, timeoutMs: timeoutS * 1000 }, item.canonical, item.id);
      if (version) item.assets = assetUrls({ factory, id: item.id, version, platform, arch, secureboot: v.secureboot });
    }
  }

  const outDir = v.outputDir;
  if (outDir) {
    try {
      writeOutputs(outDir, items, fleet, { version, platform, arch });
    } catch (err) {
      io.stderr.write(`guestlink talos: ${(err as Error).message}\n`);
      return TALOS_EXIT.writeFailed;
    }
    if (!v.quiet)
      io.stderr.write(
        `guestlink talos: wrote ${items.length === 1 && !fleet ? 'schematic.yaml, schematic.id' : `${items.length} node directories`} and talos.auto.tfvars.json to ${outDir}\n`,
      );
  }
  print(format, items, fleet, io, v.quiet, factory !== undefined);
  return TALOS_EXIT.ok;
}

function print(format: string, items: readonly Item[], fleet: Fleet | undefined, io: TalosIo, quiet: boolean, registered: boolean): void {
  const one = items[0] as Item;
  if (format === 'id') {
    io.stdout.write(fleet ? items.map((i) => `${i.name} ${i.id}\n`).join('') : `${one.id}\n`);
    return;
  }
  if (format === 'yaml') {
    io.stdout.write(one.canonical);
    if (!quiet) io.stderr.write(`schematic id: ${one.id}\n`);
    return;
  }
  const entry = (i: Item) => ({
    ...(i.name ? { name: i.name, role: i.role, addresses: i.addresses } : {}),
    id: i.id,
    ...(format === 'json' ? { schematic: i.canonical } : {}),
    registered,
    ...(i.assets ? { assets: i.assets } : {}),
  });
  if (format === 'json') {
    io.stdout.write(`${prettyJson(fleet ? { ...(fleet.vip ? { vip: fleet.vip } : {}), nodes: items.map(entry) } : entry(one))}\n`);
    return;
  }
  // summary: one block per schematic, "key: value" lines.
  for (const i of items) {
    const lines = [
      ...(i.name ? [`node: ${i.name} (${i.role}, ${i.addresses?.join(', ')})`] : []),
      `id: ${i.id}${registered ? ' (registered)' : ''}`,
      ...Object.entries(i.assets ?? {}).map(([k, url]) => `${k}: ${url}`),
    ];
    io.stdout.write(`${lines.join('\n')}\n${items.length > 1 ? '\n' : ''}`);
  }
  if (fleet?.vip) io.stdout.write(`control plane endpoint: https://${fleet.vip.includes(':') ? `[${fleet.vip}]` : fleet.vip}:6443\n`);
}

/** schematic.yaml, schematic.id (per node with --nodes) and talos.auto.tfvars.json (Terraform loads *.auto.tfvars.json by itself). */
function writeOutputs(
  dir: string,
  items: readonly Item[],
  fleet: Fleet | undefined,
  how: { version?: string; platform: Platform; arch: Arch },
): void {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const tfAssets = (a?: Assets) =>
    a ? { iso_url: a.iso, image_url: a.diskImage, qcow2_url: a.qcow2, installer_image: a.installer, pxe_url: a.pxe } : {};
  if (!fleet) {
    const i = items[0] as Item;
    writePrivate(path.join(dir, 'schematic.yaml'), i.canonical);
    writePrivate(path.join(dir, 'schematic.id'), `${i.id}\n`);
    const tf = {
      talos_schematic_id: i.id,
      ...(how.version ? { talos_version: how.version, talos_platform: how.platform, talos_arch: how.arch } : {}),
      ...Object.fromEntries(Object.entries(tfAssets(i.assets)).map(([k, val]) => [`talos_${k}`, val])),
    };
    writePrivate(path.join(dir, 'talos.auto.tfvars.json'), `${JSON.stringify(tf, null, 2)}\n`);
    return;
  }
  const nodes: Record<string, unknown> = {};
  for (const i of items) {
    const sub = path.join(dir, i.name as string);
    mkdirSync(sub, { recursive: true, mode: 0o700 });
    writePrivate(path.join(sub, 'schematic.yaml'), i.canonical);
    writePrivate(path.join(sub, 'schematic.id'), `${i.id}\n`);
    nodes[i.name as string] = {
      role: i.role,
      address: (i.addresses?.[0] ?? '').replace(/\/\d+$/, ''),
      addresses: i.addresses,
      schematic_id: i.id,
      ...tfAssets(i.assets),
    };
  }
  const tf = {
    ...(fleet.name ? { talos_cluster_name: fleet.name } : {}),
    ...(fleet.vip
      ? { talos_vip: fleet.vip, talos_cluster_endpoint: `https://${fleet.vip.includes(':') ? `[${fleet.vip}]` : fleet.vip}:6443` }
      : {}),
    ...(how.version ? { talos_version: how.version, talos_platform: how.platform, talos_arch: how.arch } : {}),
    talos_nodes: nodes,
  };
  writePrivate(path.join(dir, 'talos.auto.tfvars.json'), `${JSON.stringify(tf, null, 2)}\n`);
}
