// The command table (command-table.ts) and what is derived from it: the command names as a type, the
// groups a setting turns on, the commands the tests and the bench block, the bulk arguments. Everything
// else imports the table from here.
import type { CommandGroup, CommandSpec } from './command-spec.js';
import { QGA_COMMANDS } from './command-table.js';

export type { ArgRedaction, CommandGroup, CommandSpec } from './command-spec.js';
export { QGA_COMMANDS } from './command-table.js';

/** Every command name the protocol knows: handler maps, back ends' unsupported lists and policies are typed by it. */
export type CommandName = keyof typeof QGA_COMMANDS;

/** The commands of one group, as a union (each group's handler map must name exactly these). */
export type CommandsIn<G extends CommandGroup> = {
  [K in CommandName]: (typeof QGA_COMMANDS)[K]['group'] extends G ? K : never;
}[CommandName];

export const COMMAND_NAMES = Object.keys(QGA_COMMANDS) as CommandName[];

/**
 * Groups whose off-by-default commands a setting turns on: `enabledBy` names it (for docs and messages);
 * `byAllowRpcs` says that naming a command in -a/--allow-rpcs turns it on too. Exec and file commands
 * need their allow-lists (with none there is nothing they may touch), so -a alone is not enough there;
 * account commands have no list, so -a naming one is as explicit an opt-in as the flag.
 */
export const OPT_IN_GROUPS = {
  exec: { enabledBy: '--allow-exec', byAllowRpcs: false },
  file: { enabledBy: '--allow-file-read or --allow-file-write', byAllowRpcs: false },
  accounts: { enabledBy: '--allow-account-changes', byAllowRpcs: true },
  // Only meaningful on the management endpoint: on the hypervisor's channel there is nobody to authenticate.
  authenticate: { enabledBy: '--listen-tokens (with --listen)', byAllowRpcs: false },
  // `guestlink etcd-snapshot` copies the snapshot out with these: they come on with the group (their read
  // list then holds only the snapshot directory), while guest-file-write and -flush stay off.
  etcd: {
    enabledBy: '--etcd-snapshot-on-demand',
    byAllowRpcs: false,
    alsoEnables: ['guest-file-open', 'guest-file-read', 'guest-file-seek', 'guest-file-close'],
  },
} as const satisfies Partial<Record<CommandGroup, { enabledBy: string; byAllowRpcs: boolean; alsoEnables?: readonly string[] }>>;

/** A group some setting can turn on. */
export type OptInGroup = keyof typeof OPT_IN_GROUPS;

/** Commands that change this machine (`changesMachine`): what the peer tests and the bench always block. */
export const MACHINE_CHANGING_COMMANDS: readonly CommandName[] = COMMAND_NAMES.filter(
  (n) => (QGA_COMMANDS[n] as CommandSpec).changesMachine === true,
);

const COMMAND_SPECS: ReadonlyMap<string, CommandSpec> = new Map(Object.entries(QGA_COMMANDS));

/**
 * Argument names whose long values the JSON reader keeps as bytes instead of JS strings (json-bulk.ts):
 * those marked `bulk`, if every command with an argument of that name marks it so and types it 'str'
 * (another command's handler must never be handed bytes where it expects a string).
 */
export const BULK_ARGUMENTS: readonly string[] = (() => {
  const bulk = new Set<string>();
  const not = new Set<string>();
  for (const spec of COMMAND_SPECS.values()) {
    for (const [key, type] of Object.entries(spec.args ?? {})) {
      const name = key.replace(/^\*/, '');
      (spec.redact?.[name] === 'bulk' && type === 'str' ? bulk : not).add(name);
    }
  }
  return [...bulk].filter((n) => !not.has(n));
})();

/** The spec of a command, or undefined for names the protocol does not know. */
export function findCommand(name: string): CommandSpec | undefined {
  return COMMAND_SPECS.get(name);
}
