// What a verb gets (parsed options, the connector, output streams) and what a per-VM verb returns
// (a View: data for json/yaml, a table, a one-line summary for fleet mode).
import type { AgentConnection } from '../../host/connection.js';
import type { Connector } from '../../host/connectors/index.js';
import type { CliOptions } from '../options.js';
import type { OutputFormat } from '../output.js';

export interface Io {
  stdout: NodeJS.WritableStream;
  stderr: NodeJS.WriteStream;
  stdin: NodeJS.ReadableStream;
}

export interface VerbContext {
  verb: string;
  /** Every option, typed by the option table, defaults filled in. */
  options: CliOptions;
  /** The keys of the options given on the command line (for "X needs Y" and for repeating them). */
  given: ReadonlySet<string>;
  /** Positionals after the verb, before `--`. */
  args: string[];
  /** After `--`. */
  rest: string[];
  sawTerminator: boolean;
  format: OutputFormat;
  timeoutMs: number;
  connector: Connector;
  io: Io;
  quiet: boolean;
  /** The environment, read once by main. */
  env: Readonly<Record<string, string | undefined>>;
}

export interface View {
  data: unknown;
  table(): string;
  /** One line for the fleet summary. */
  summary: string;
  /** Counts as a failure in fleet mode (exec with a non-zero status). */
  failed?: boolean;
}

/** A verb that runs against one VM at a time and so also works over a fleet. */
export interface PerVmVerb {
  kind: 'per-vm';
  name: string;
  usage: string;
  summary: string;
  /** Positionals after the VMs that belong to the verb (call: the command name). */
  trailing: number;
  one(conn: AgentConnection, ctx: VerbContext, trailing: string[]): Promise<View>;
  /** Single-VM mode with its own output and exit code (exec streams and passes the status through). */
  single?(conn: AgentConnection, ctx: VerbContext, trailing: string[]): Promise<number>;
}

export interface StandaloneVerb {
  kind: 'standalone';
  name: string;
  usage: string;
  summary: string;
  run(ctx: VerbContext): Promise<number>;
}

export type Verb = PerVmVerb | StandaloneVerb;
