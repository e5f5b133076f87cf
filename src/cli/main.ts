// The guestlink host CLI. Today: `call` (any QGA command, arguments typed by the command table)
// and `commands`; the verbs of the host toolkit (ping, exec, cp, kubeconfig, ...) build on these.
import { parseArgs } from 'node:util';
import { QgaClient, QgaRemoteError, QgaTimeoutError } from '../host/client.js';
import { COMMAND_NAMES, findCommand } from '../protocol/qga/commands.js';
import { writeJson } from '../protocol/qga/json-value.js';
import { memberName, typeName } from '../protocol/qga/schema.js';
import { VERSION } from '../version.js';
import { buildArguments, UsageError } from './args.js';

const USAGE = `Usage:
  guestlink call VM COMMAND [--arg key=value ...] [--json '{...}'] [--timeout SECONDS]
  guestlink commands            list the QGA commands and their arguments
  guestlink --version

VM is an address; supported now: unix:/path/to/qga.sock (a QEMU chardev socket, or an agent
started with -m unix-listen). Exit codes: 0 success, 1 the agent returned an error,
2 usage error, 3 connection failure or timeout.
`;

/** Runs the CLI; returns the process exit code. */
export async function main(argv: string[]): Promise<number> {
  let parsed: ReturnType<typeof parseArgs>;
  try {
    parsed = parseArgs({
      args: argv,
      allowPositionals: true,
      options: {
        arg: { type: 'string', multiple: true, short: 'a' },
        json: { type: 'string' },
        timeout: { type: 'string', default: '5' },
        help: { type: 'boolean', short: 'h' },
        version: { type: 'boolean' },
      },
    });
  } catch (err) {
    process.stderr.write(`guestlink: ${(err as Error).message}\n${USAGE}`);
    return 2;
  }
  const { values, positionals } = parsed;
  if (values.version) {
    process.stdout.write(`guestlink ${VERSION}\n`);
    return 0;
  }
  const [verb, ...rest] = positionals;
  if (values.help || verb === undefined) {
    process.stdout.write(USAGE);
    return values.help ? 0 : 2;
  }
  try {
    switch (verb) {
      case 'commands':
        process.stdout.write(listCommands());
        return 0;
      case 'call':
        return await call(rest, (values.arg as string[] | undefined) ?? [], values.json as string | undefined, Number(values.timeout));
      default:
        throw new UsageError(`unknown verb "${verb}"`);
    }
  } catch (err) {
    if (err instanceof UsageError) {
      process.stderr.write(`guestlink: ${err.message}\n${USAGE}`);
      return 2;
    }
    if (err instanceof QgaRemoteError) {
      process.stderr.write(`guestlink: the agent answered ${err.errorClass}: ${err.desc}\n`);
      return 1;
    }
    if (err instanceof QgaTimeoutError) {
      process.stderr.write(`guestlink: ${err.message}; is the agent running? (try a longer --timeout)\n`);
      return 3;
    }
    process.stderr.write(`guestlink: ${(err as Error).message}\n`);
    return 3;
  }
}

function listCommands(): string {
  return `${COMMAND_NAMES.map((name) => {
    const spec = findCommand(name);
    const args = Object.entries(spec?.args ?? {})
      .map(([k, t]) => {
        const { name: n, optional } = memberName(k);
        return optional ? `[${n}=${typeName(t)}]` : `${n}=${typeName(t)}`;
      })
      .join(' ');
    return `${name}${args ? ` ${args}` : ''}`;
  }).join('\n')}\n`;
}

async function call(rest: string[], pairs: string[], json: string | undefined, timeout: number): Promise<number> {
  const [vm, name] = rest;
  if (!vm || !name) throw new UsageError('call needs a VM address and a command name');
  const spec = findCommand(name);
  if (!spec) throw new UsageError(`unknown command "${name}" (see: guestlink commands)`);
  if (!vm.startsWith('unix:')) throw new UsageError(`unsupported VM address "${vm}" (use unix:/path)`);
  if (!Number.isFinite(timeout) || timeout <= 0) throw new UsageError('--timeout must be a positive number of seconds');
  const args = buildArguments(name, spec, pairs, json);
  const client = await QgaClient.connectUnix(vm.slice('unix:'.length), { timeoutMs: timeout * 1000 });
  try {
    const result = await client.call(name, args, { timeoutMs: timeout * 1000 });
    if (spec.successResponse !== false) process.stdout.write(`${writeJson(result)}\n`);
    return 0;
  } finally {
    client.close();
  }
}
