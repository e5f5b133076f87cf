// The guestlink host CLI: verbs over VM addresses (unix:, libvirt:, pve://, tls://, node://), one VM or a fleet.
// The environment is read here once (PVE_URL, PVE_TOKEN, KUBECONFIG, GUESTLINK_TOKEN, LIBVIRT_DEFAULT_URI via virsh).
import { readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ADDRESS_FORMS } from '../host/connectors/addresses.js';
import { Connector } from '../host/connectors/index.js';
import { helpLines } from '../settings/index.js';
import { VERSION } from '../version.js';
import { UsageError } from './args.js';
import { describeError, EXIT, EXIT_CODES } from './exit-codes.js';
import { runFleetVerb } from './fleet.js';
import { CLI_OPTIONS, checkOptionsFor, FLEET_VERBS, parseCommandLine } from './options.js';
import { renderData } from './output.js';
import { terminalSafe } from './terminal-text.js';
import { checkCallName } from './verbs/call.js';
import { findVerb, VERBS } from './verbs/index.js';
import { RAW_VERBS } from './verbs/raw.js';
import type { Io, VerbContext } from './verbs/types.js';

function usage(): string {
  const verbs = [...VERBS, ...Object.values(RAW_VERBS)].map((v) => `  guestlink ${v.usage}\n      ${v.summary}`).join('\n');
  const scopeLabel = (verbs: readonly string[]) =>
    `[${verbs.length === FLEET_VERBS.length && FLEET_VERBS.every((v) => verbs.includes(v)) ? 'fleet verbs' : verbs.join(', ')}]`;
  const opts = helpLines(CLI_OPTIONS, { width: 30, scopeLabel }).join('\n');
  const forms = (fleet: boolean) =>
    ADDRESS_FORMS.filter((f) => f.fleet === fleet)
      .map((f) => `  ${f.form.padEnd(24)} ${f.help}`)
      .join('\n');
  const codes = Object.values(EXIT_CODES)
    .map((c) => `  ${String(c.code).padStart(3)}  ${c.summary}`)
    .join('\n');
  return `Usage:
${verbs}

VM addresses:
${forms(false)}
Fleet mode (several VMs, or a pattern):
${forms(true)}

Options (boolean ones also take --no-NAME; an option given to a verb it does not apply to is refused):
${opts}

Exit codes (exec passes the program's status through, 128+N for signal N; see docs/cli.md):
${codes}
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
    const { options, given } = parsed;
    if (parsed.actions.has('version')) {
      io.stdout.write(`guestlink ${VERSION}\n`);
      return EXIT.ok;
    }
    const [first, ...args] = parsed.positionals;
    verbName = first;
    const help = parsed.actions.has('help');
    if (help || verbName === undefined || verbName === 'help') {
      io.stdout.write(usage());
      return help || verbName === 'help' ? EXIT.ok : EXIT.usage;
    }
    const verb = findVerb(verbName);
    if (!verb) throw new UsageError(`unknown verb "${verbName}"`);
    checkOptionsFor(verb.name, given);
    if (parsed.sawTerminator && verb.name !== 'exec') throw new UsageError(`${verb.name} takes no command after --`);
    const insecure = options.insecure;
    const caFile = options.ca;
    if (insecure && caFile) throw new UsageError('--insecure and --ca exclude each other');
    const ca = caFile ? readFileSync(caFile) : undefined;
    const pveUrl = options.pveUrl ?? env.PVE_URL;
    connector = new Connector({
      libvirt: {
        ...(options.connect ? { connectUri: options.connect } : {}),
        ...(env.GUESTLINK_VIRSH ? { virsh: env.GUESTLINK_VIRSH } : {}),
      },
      pve: {
        ...(pveUrl ? { url: pveUrl } : {}),
        ...(env.PVE_TOKEN ? { token: env.PVE_TOKEN } : {}),
        ...(ca ? { ca } : {}),
        insecure,
      },
      kube: {
        kubeconfig: options.kubeconfig ?? (env.KUBECONFIG || path.join(env.HOME ?? os.homedir(), '.kube', 'config')),
        ...(options.context ? { context: options.context } : {}),
        ...(env.GUESTLINK_TOKEN ? { token: env.GUESTLINK_TOKEN } : {}),
        ...(ca ? { ca } : {}),
      },
    });
    if (insecure && !options.quiet) io.stderr.write('guestlink: --insecure: the Proxmox VE certificate is not verified\n');
    const ctx: VerbContext = {
      verb: verb.name,
      options,
      given,
      args,
      rest: parsed.rest,
      sawTerminator: parsed.sawTerminator,
      format: options.output,
      timeoutMs: options.timeout * 1000,
      connector,
      io,
      quiet: options.quiet,
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
    const addresses = await connector.expand(vms);
    if (addresses.length === 0) throw new UsageError(`no running VM matches ${vms.join(' ')}`);
    return await runFleetVerb(verb, ctx, addresses, trailing, options.concurrency);
  } catch (err) {
    const { code, message } = describeError(err);
    // The message may quote the guest (error texts, names): shown escaped.
    io.stderr.write(`guestlink: ${terminalSafe(message)}\n${code === EXIT.usage ? 'Try: guestlink --help\n' : ''}`);
    // exec passes the program's status through; its own failures must not look like one.
    return verbName === 'exec' && code !== EXIT.usage ? EXIT.execFailed : code;
  } finally {
    connector?.close();
  }
}
