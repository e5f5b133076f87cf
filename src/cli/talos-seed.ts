// guestlink cloud-init --talos: the Talos nocloud seed (machine config as user-data, network-config v2
// with the static address, meta-data with host name and instance-id) as files and/or the cidata ISO; with
// --nodes, one seed per node. Needs no Image Factory round trip; one CD-ROM per VM.
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { TalosInputError, TalosLimitError } from '../provision/talos/errors.js';
import { resolveStaticNetwork } from '../provision/talos/meta-network.js';
import { checkMachineConfig, machineConfigRole, talosSeedFiles, talosSeedIso } from '../provision/talos/nocloud.js';
import { parseFleet } from '../provision/talos/nodes.js';
import { clip, helpLines, type SettingSpec } from '../settings/index.js';
import { type CloudInitIo, EXIT, imageDate, writePrivate } from './cloud-init.js';
import { caps, networkInput, readInput } from './talos-input.js';
import {
  parseTalosArgs,
  TALOS_CAP_OPTIONS,
  TALOS_NETWORK_OPTIONS,
  TALOS_SEED_OPTIONS,
  TALOS_SEED_OWN_OPTIONS,
  type TalosArgs,
} from './talos-options.js';

const width = 30;
const lines = (table: readonly SettingSpec[]) => helpLines(table, width).join('\n');

/** `guestlink cloud-init --talos --help`: synopsis and prose by hand, the options from the tables (talos-options.ts). */
export function talosSeedUsage(): string {
  return `Usage: guestlink cloud-init --talos --machine-config FILE --hostname NAME [network flags]
                            (--out-dir DIR | --iso PATH | --print)...
       guestlink cloud-init --talos --nodes nodes.json --machine-config controlplane.yaml
                            [--worker-config worker.yaml] [network flags] (--out-dir DIR | --iso-dir DIR)

A Talos nocloud seed: user-data is the Talos machine config (checked: version v1alpha1 with machine and
cluster; a #cloud-config file is refused), network-config (v2) the static address, meta-data the host
name and instance-id. The cidata ISO is the one CD-ROM the VM needs.
${lines(TALOS_SEED_OWN_OPTIONS)}
Network flags:
${lines(TALOS_NETWORK_OPTIONS)}
Caps:
${lines(TALOS_CAP_OPTIONS)}
SOURCE_DATE_EPOCH fixes the ISO's timestamps. Exit codes: 0 written, 1 a file could not be written, 2 bad input.
`;
}

interface Seed {
  name: string;
  files: ReturnType<typeof talosSeedFiles>;
}

/** Runs `cloud-init --talos`; returns the exit code. */
export async function talosSeedVerb(argv: readonly string[], io: CloudInitIo & { stdin?: NodeJS.ReadableStream }): Promise<number> {
  let parsed: TalosArgs<typeof TALOS_SEED_OPTIONS>;
  try {
    parsed = parseTalosArgs(TALOS_SEED_OPTIONS, argv);
  } catch (err) {
    io.stderr.write(`guestlink cloud-init --talos: ${(err as Error).message}\n(see guestlink cloud-init --talos --help)\n`);
    return EXIT.usage;
  }
  const { options: v, given } = parsed;
  if (parsed.help) {
    io.stdout.write(talosSeedUsage());
    return EXIT.ok;
  }
  const stdin = io.stdin ?? process.stdin;
  let seeds: Seed[];
  try {
    if (!v.outDir && !v.iso && !v.isoDir && !v.print)
      throw new TalosInputError('say where the seed goes: --out-dir DIR, --iso PATH (--iso-dir DIR with --nodes) and/or --print');
    const cap = caps(v);
    const limits = { maxBytes: cap.maxBytes, maxNodes: cap.maxNodes, maxDepth: cap.maxDepth };
    const readConfig = async (file: string) => {
      const text = await readInput(file, cap.maxBytes, stdin, 'machine config');
      checkMachineConfig(text, file);
      return text;
    };
    if (!v.machineConfig && !v.nodes)
      throw new TalosInputError('--talos needs --machine-config FILE (controlplane.yaml or worker.yaml from talosctl gen config)');
    if (v.nodes) {
      if (v.iso) throw new TalosInputError('with --nodes, use --iso-dir DIR (one ISO per node)');
      if (v.hostname || given.has('address') || v.linkMac || v.instanceId)
        throw new TalosInputError('with --nodes, host names, addresses, MACs and instance-ids come from the nodes file');
      const nodesFile = v.nodes;
      const fleet = parseFleet(
        await readInput(nodesFile, cap.maxBytes, stdin, 'nodes file'),
        networkInput(v),
        nodesFile,
        limits,
        cap.maxFleet,
      );
      const cache = new Map<string, string>();
      const config = async (file: string) => cache.get(file) ?? (cache.set(file, await readConfig(file)).get(file) as string);
      seeds = [];
      for (const n of fleet.nodes) {
        const file = n.machineConfig
          ? path.resolve(path.dirname(nodesFile), n.machineConfig)
          : n.role === 'worker'
            ? (v.workerConfig ?? v.machineConfig)
            : v.machineConfig;
        if (!file)
          throw new TalosInputError(`node ${n.name}: no machine config (give --machine-config or "machineConfig" in the nodes file)`);
        const text = await config(file);
        const declared = machineConfigRole(text);
        if (
          declared &&
          declared !== (n.role === 'controlplane' ? 'controlplane' : 'worker') &&
          !(declared === 'init' && n.role === 'controlplane')
        )
          throw new TalosInputError(`node ${n.name} has role ${n.role}, but ${file} is a ${declared} config`);
        const net = resolveStaticNetwork(n.network);
        seeds.push({
          name: n.name,
          files: talosSeedFiles({
            machineConfig: text,
            network: net,
            hostname: n.name,
            ...(n.network.linkMac ? { mac: n.network.linkMac } : {}),
          }),
        });
      }
    } else {
      if (v.isoDir || v.workerConfig) throw new TalosInputError('--iso-dir and --worker-config go with --nodes');
      if (!v.hostname) throw new TalosInputError('--talos needs --hostname NAME');
      const text = await readConfig(v.machineConfig as string);
      const input = networkInput(v);
      const net = resolveStaticNetwork(input);
      const hostname = v.hostname.split('.')[0] as string;
      seeds = [
        {
          name: hostname,
          files: talosSeedFiles({
            machineConfig: text,
            network: net,
            hostname,
            ...(input.linkMac ? { mac: input.linkMac } : {}),
            ...(v.instanceId ? { instanceId: checkInstanceId(v.instanceId) } : {}),
          }),
        },
      ];
    }
  } catch (err) {
    if (err instanceof TalosInputError || err instanceof TalosLimitError) {
      io.stderr.write(`guestlink cloud-init --talos: ${err.message}\n`);
      return EXIT.usage;
    }
    throw err;
  }
  try {
    const date = imageDate(io.env);
    const fleet = v.nodes !== undefined;
    for (const seed of seeds) {
      const outDir = v.outDir;
      if (outDir) {
        const dir = fleet ? path.join(outDir, seed.name) : outDir;
        mkdirSync(dir, { recursive: true, mode: 0o700 });
        for (const f of seed.files) writePrivate(path.join(dir, f.name), f.text);
      }
      const iso = fleet ? (v.isoDir ? path.join(v.isoDir, `${seed.name}.iso`) : undefined) : v.iso;
      if (iso) {
        mkdirSync(path.dirname(path.resolve(iso)), { recursive: true, mode: 0o700 });
        const image = talosSeedIso(seed.files, date);
        writePrivate(iso, image);
        io.stderr.write(`guestlink cloud-init --talos: wrote ${iso} (${image.length} bytes, label cidata) for ${seed.name}\n`);
      }
    }
    if (v.outDir)
      io.stderr.write(
        `guestlink cloud-init --talos: wrote user-data, meta-data, network-config for ${seeds.length} node(s) to ${v.outDir}\n`,
      );
  } catch (err) {
    io.stderr.write(`guestlink cloud-init --talos: ${(err as Error).message}\n`);
    return EXIT.writeFailed;
  }
  if (v.print) for (const s of seeds) io.stdout.write(s.files.find((f) => f.name === 'network-config')?.text ?? '');
  return EXIT.ok;
}

function checkInstanceId(id: string): string {
  if (!/^[A-Za-z0-9._:-]{1,128}$/.test(id))
    throw new TalosInputError(`--instance-id ${clip(id)}: 1-128 letters, digits and . _ : - are expected`);
  return id;
}
