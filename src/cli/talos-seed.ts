// guestlink cloud-init --talos: the Talos nocloud seed (machine config as user-data, network-config v2
// with the static address, meta-data with host name and instance-id) as files and/or the cidata ISO; with
// --nodes, one seed per node. Needs no Image Factory round trip; one CD-ROM per VM.
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { TalosInputError, TalosLimitError } from '../provision/talos/errors.js';
import { resolveStaticNetwork } from '../provision/talos/meta-network.js';
import { checkMachineConfig, machineConfigRole, talosSeedFiles, talosSeedIso } from '../provision/talos/nocloud.js';
import { parseFleet } from '../provision/talos/nodes.js';
import { type CloudInitIo, EXIT, imageDate, writePrivate } from './cloud-init.js';
import { CAP_HELP, CAP_OPTIONS, caps, NETWORK_HELP, NETWORK_OPTIONS, networkInput, readInput, type Values } from './talos-input.js';

const OPTIONS = {
  ...NETWORK_OPTIONS,
  ...CAP_OPTIONS,
  talos: { type: 'boolean' },
  'machine-config': { type: 'string' },
  'worker-config': { type: 'string' },
  'instance-id': { type: 'string' },
  nodes: { type: 'string' },
  'out-dir': { type: 'string' },
  iso: { type: 'string' },
  'iso-dir': { type: 'string' },
  print: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
} as const;

const USAGE = `Usage: guestlink cloud-init --talos --machine-config FILE --hostname NAME [network flags]
                            (--out-dir DIR | --iso PATH | --print)...
       guestlink cloud-init --talos --nodes nodes.json --machine-config controlplane.yaml
                            [--worker-config worker.yaml] [network flags] (--out-dir DIR | --iso-dir DIR)

A Talos nocloud seed: user-data is the Talos machine config (checked: version v1alpha1 with machine and
cluster; a #cloud-config file is refused), network-config (v2) the static address, meta-data the host
name and instance-id. The cidata ISO is the one CD-ROM the VM needs.
  --machine-config FILE     talosctl gen config's controlplane.yaml or worker.yaml
  --worker-config FILE      with --nodes: the config for role worker (else --machine-config for all)
  --instance-id ID          NoCloud instance-id (default iid-HOSTNAME)
  --nodes FILE              one seed per node (name, address, role; docs/talos-images.md)
  --out-dir DIR             the three files (with --nodes: DIR/NAME/); mode 0600, they hold secrets
  --iso PATH                the cidata ISO;  --iso-dir DIR: DIR/NAME.iso per node
  --print                   print network-config on stdout
Network flags:
${NETWORK_HELP}
Caps:
${CAP_HELP}
SOURCE_DATE_EPOCH fixes the ISO's timestamps. Exit codes: 0 written, 1 a file could not be written, 2 bad input.
`;

interface Seed {
  name: string;
  files: ReturnType<typeof talosSeedFiles>;
}

/** Runs `cloud-init --talos`; returns the exit code. */
export async function talosSeedVerb(argv: readonly string[], io: CloudInitIo & { stdin?: NodeJS.ReadableStream }): Promise<number> {
  let v: Values;
  try {
    v = parseArgs({ args: [...argv], options: OPTIONS, strict: true, allowPositionals: false }).values as Values;
  } catch (err) {
    io.stderr.write(`guestlink cloud-init --talos: ${(err as Error).message}\n(see guestlink cloud-init --talos --help)\n`);
    return EXIT.usage;
  }
  if (v.help) {
    io.stdout.write(USAGE);
    return EXIT.ok;
  }
  const stdin = io.stdin ?? process.stdin;
  let seeds: Seed[];
  try {
    if (!v['out-dir'] && !v.iso && !v['iso-dir'] && !v.print)
      throw new TalosInputError('say where the seed goes: --out-dir DIR, --iso PATH (--iso-dir DIR with --nodes) and/or --print');
    const cap = caps(v);
    const limits = { maxBytes: cap.maxBytes, maxNodes: cap.maxNodes, maxDepth: cap.maxDepth };
    const readConfig = async (file: string) => {
      const text = await readInput(file, cap.maxBytes, stdin, 'machine config');
      checkMachineConfig(text, file);
      return text;
    };
    if (!v['machine-config'] && !v.nodes)
      throw new TalosInputError('--talos needs --machine-config FILE (controlplane.yaml or worker.yaml from talosctl gen config)');
    if (v.nodes) {
      if (v.iso) throw new TalosInputError('with --nodes, use --iso-dir DIR (one ISO per node)');
      if (v.hostname || v.address || v['link-mac'] || v['instance-id'])
        throw new TalosInputError('with --nodes, host names, addresses, MACs and instance-ids come from the nodes file');
      const nodesFile = v.nodes as string;
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
          : ((n.role === 'worker' ? (v['worker-config'] ?? v['machine-config']) : v['machine-config']) as string | undefined);
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
      if (v['iso-dir'] || v['worker-config']) throw new TalosInputError('--iso-dir and --worker-config go with --nodes');
      if (!v.hostname) throw new TalosInputError('--talos needs --hostname NAME');
      const text = await readConfig(v['machine-config'] as string);
      const input = networkInput(v);
      const net = resolveStaticNetwork(input);
      const hostname = (v.hostname as string).split('.')[0] as string;
      seeds = [
        {
          name: hostname,
          files: talosSeedFiles({
            machineConfig: text,
            network: net,
            hostname,
            ...(input.linkMac ? { mac: input.linkMac } : {}),
            ...(v['instance-id'] ? { instanceId: checkInstanceId(v['instance-id'] as string) } : {}),
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
      const outDir = v['out-dir'] as string | undefined;
      if (outDir) {
        const dir = fleet ? path.join(outDir, seed.name) : outDir;
        mkdirSync(dir, { recursive: true, mode: 0o700 });
        for (const f of seed.files) writePrivate(path.join(dir, f.name), f.text);
      }
      const iso = fleet
        ? v['iso-dir']
          ? path.join(v['iso-dir'] as string, `${seed.name}.iso`)
          : undefined
        : (v.iso as string | undefined);
      if (iso) {
        mkdirSync(path.dirname(path.resolve(iso)), { recursive: true, mode: 0o700 });
        const image = talosSeedIso(seed.files, date);
        writePrivate(iso, image);
        io.stderr.write(`guestlink cloud-init --talos: wrote ${iso} (${image.length} bytes, label cidata) for ${seed.name}\n`);
      }
    }
    if (v['out-dir'])
      io.stderr.write(
        `guestlink cloud-init --talos: wrote user-data, meta-data, network-config for ${seeds.length} node(s) to ${v['out-dir']}\n`,
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
    throw new TalosInputError(`--instance-id "${id}": 1-128 letters, digits and . _ : - are expected`);
  return id;
}
