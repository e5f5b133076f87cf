// The guestlink host CLI: verbs over VM addresses (unix:, libvirt:, pve://), one VM or a fleet.
// The environment is read here once (PVE_URL, PVE_TOKEN, KUBECONFIG, LIBVIRT_DEFAULT_URI via virsh).
import { readFileSync } from 'node:fs';
import { Connector } from '../host/connectors/index.js';
import { VERSION } from '../version.js';
import { UsageError } from './args.js';
import { describeError, EXIT } from './exit-codes.js';
import { runFleetVerb } from './fleet.js';
import { checkOptionsFor, OPTIONS, parseCommandLine, seconds } from './options.js';
import { type OutputFormat, renderData } from './output.js';
import { checkCallName } from './verbs/call.js';
import { findVerb, VERBS } from './verbs/index.js';
import { RAW_VERBS } from './verbs/raw.js';
import type { Io, VerbContext } from './verbs/types.js';

function usage(): string {
  const verbs = [...VERBS, ...Object.values(RAW_VERBS)].map((v) => `  guestlink ${v.usage}\n      ${v.summary}`).join('\n');
  const opts = OPTIONS.map((o) => {
    const flag = `${o.short ? `-${o.short}, ` : ''}--${o.name}${o.arg ? ` ${o.arg}` : ''}`;
    return `  ${flag.padEnd(30)} ${o.help}${o.verbs ? ` [${o.verbs.length > 3 ? 'fleet verbs' : o.verbs.join(', ')}]` : ''}`;
  }).join('\n');
  return `Usage:
${verbs}

VM addresses:
  unix:/path/to/qga.sock   a QEMU chardev socket (or guestlink-agent -m unix-listen)
  libvirt:DOMAIN           through virsh qemu-agent-command (--connect URI)
  pve://NODE/VMID          the Proxmox VE API (--pve-url, token in PVE_TOKEN=USER@REALM!TOKENID=SECRET)
Fleet mode (several VMs, or a pattern): libvirt:GLOB, pve://NODE/*, pve-pool:POOL.

Options:
${opts}

Exit codes: 0 ok; 1 the agent returned an error; 2 usage error; 3 agent unreachable, auth or timeout;
4 fleet: some VMs failed; 5 checksum mismatch; 6 not possible through this connector;
exec: the program's status (128+N for signal N), 255 when guestlink failed.
rollout: 10 a gate did not pass, 11 a node failed, 12 state file unusable, 130 interrupted. See docs/cli.md.
`;
}

/** Runs the CLI; returns the process exit code. */
export async function main(
  argv: string[],
  io: Io = process,
  env: Readonly<Record<string, string | undefined>> = process.env,
): Promise<number> {
  let connector: Connector | undefined;
  let verbName: string | undefined;
  const raw = argv[0] !== undefined && Object.hasOwn(RAW_VERBS, argv[0]) ? RAW_VERBS[argv[0]] : undefined;
  if (raw) return raw.run(argv.slice(1), { ...io, env });
  try {
    const parsed = parseCommandLine(argv);
    const { values } = parsed;
    if (values.version) {
      io.stdout.write(`guestlink ${VERSION}\n`);
      return EXIT.ok;
    }
    const [first, ...args] = parsed.positionals;
    verbName = first;
    if (values.help || verbName === undefined || verbName === 'help') {
      io.stdout.write(usage());
      return values.help || verbName === 'help' ? EXIT.ok : EXIT.usage;
    }
    const verb = findVerb(verbName);
    if (!verb) throw new UsageError(`unknown verb "${verbName}"`);
    checkOptionsFor(verb.name, values);
    if (parsed.sawTerminator && verb.name !== 'exec') throw new UsageError(`${verb.name} takes no command after --`);
    const insecure = values.insecure === true;
    const caFile = values.ca as string | undefined;
    if (insecure && caFile) throw new UsageError('--insecure and --ca exclude each other');
    connector = new Connector({
      libvirt: {
        ...(values.connect ? { connectUri: values.connect as string } : {}),
        ...(env.GUESTLINK_VIRSH ? { virsh: env.GUESTLINK_VIRSH } : {}),
      },
      pve: {
        ...((values['pve-url'] ?? env.PVE_URL) ? { url: (values['pve-url'] as string | undefined) ?? env.PVE_URL } : {}),
        ...(env.PVE_TOKEN ? { token: env.PVE_TOKEN } : {}),
        ...(caFile ? { ca: readFileSync(caFile) } : {}),
        insecure,
      },
    });
    if (insecure && !values.quiet) io.stderr.write('guestlink: --insecure: the Proxmox VE certificate is not verified\n');
    const ctx: VerbContext = {
      verb: verb.name,
      values,
      args,
      rest: parsed.rest,
      sawTerminator: parsed.sawTerminator,
      format: ((values.output as string | undefined) ?? 'table') as OutputFormat,
      timeoutMs: seconds(values.timeout, 'timeout', 5),
      connector,
      io,
      quiet: values.quiet === true,
      env,
    };
    if (verb.kind === 'standalone') return await verb.run(ctx);

    const vms = args.slice(0, args.length - verb.trailing);
    const trailing = args.slice(args.length - verb.trailing);
    if (vms.length === 0) throw new UsageError(`${verb.name} needs a VM address: guestlink ${verb.usage}`);
    if (verb.name === 'call') checkCallName(trailing[0]);
    if (verb.name === 'exec' && !parsed.sawTerminator)
      throw new UsageError('exec needs the command after --: guestlink exec VM -- /bin/uname -a');
    for (const vm of vms) Connector.check(vm);
    const fleet = vms.length > 1 || vms.some((a) => Connector.isPattern(a));
    if (!fleet) {
      const conn = connector.connect(vms[0] as string);
      if (verb.single) return await verb.single(conn, ctx, trailing);
      const view = await verb.one(conn, ctx, trailing);
      io.stdout.write(ctx.format === 'table' ? view.table() : renderData(ctx.format, view.data));
      return EXIT.ok;
    }
    const concurrency = values.concurrency === undefined ? 10 : Number(values.concurrency);
    if (!Number.isInteger(concurrency) || concurrency < 1) throw new UsageError('--concurrency must be a positive integer');
    const addresses = await connector.expand(vms);
    if (addresses.length === 0) throw new UsageError(`no running VM matches ${vms.join(' ')}`);
    return await runFleetVerb(verb, ctx, addresses, trailing, concurrency);
  } catch (err) {
    const { code, message } = describeError(err);
    io.stderr.write(`guestlink: ${message}\n${code === EXIT.usage ? 'Try: guestlink --help\n' : ''}`);
    // exec passes the program's status through; its own failures must not look like one.
    return verbName === 'exec' && code !== EXIT.usage ? EXIT.execFailed : code;
  } finally {
    connector?.close();
  }
}
