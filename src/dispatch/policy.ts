// Which commands run: qemu-ga's allow/block lists and frozen-state filter, plus guestlink's
// secure default: a command marked offByDefault in the table runs only when the configuration opts
// its group in (OPT_IN_GROUPS: exec with --allow-exec, files with --allow-file-*, accounts with
// --allow-account-changes or by naming the command in -a).
import { COMMAND_NAMES, type CommandName, findCommand, OPT_IN_GROUPS, type OptInGroup } from '../protocol/qga/commands.js';
import { errors, type QgaError } from '../protocol/qga/errors.js';

export interface PolicyOptions {
  /** -a/--allow-rpcs: when set, every command not listed is disabled. */
  allowRpcs?: readonly string[];
  /** -b/--block-rpcs: always wins. */
  blockRpcs?: readonly string[];
  /** Groups whose off-by-default commands the configuration turned on (an allow-list or flag exists for them). */
  optInGroups?: readonly OptInGroup[];
  /** Commands the node back end cannot serve. */
  unsupported?: readonly CommandName[];
}

/** Decides, per command, whether it may run now; `frozen` comes from the freeze state. */
export class CommandPolicy {
  private readonly disabled = new Set<string>();

  constructor(opts: PolicyOptions) {
    const allow = opts.allowRpcs && opts.allowRpcs.length > 0 ? new Set(opts.allowRpcs) : undefined;
    const groups = new Set<string>(opts.optInGroups ?? []);
    // Commands of other groups that an opted-in group brings along (OPT_IN_GROUPS' alsoEnables).
    const along = new Set<string>((opts.optInGroups ?? []).flatMap((g) => alsoEnables(g)));
    for (const name of COMMAND_NAMES) {
      const spec = findCommand(name);
      if (allow && !allow.has(name)) this.disabled.add(name);
      const optedIn = groups.has(spec?.group ?? '') || along.has(name) || (allow?.has(name) && optInByAllowRpcs(spec?.group ?? ''));
      if (spec?.offByDefault && !optedIn) this.disabled.add(name);
    }
    for (const name of opts.blockRpcs ?? []) this.disabled.add(name);
    for (const name of opts.unsupported ?? []) this.disabled.add(name);
  }

  /** Enabled by configuration (ignoring the frozen state)? */
  configured(name: string): boolean {
    return !this.disabled.has(name);
  }

  /** Enabled right now? The frozen filter disables all but qemu-ga's fixed few. */
  enabled(name: string, frozen: boolean): boolean {
    if (this.disabled.has(name)) return false;
    return !frozen || findCommand(name)?.allowedWhileFrozen === true;
  }

  /** The error for a disabled command, worded as qemu-ga words it. */
  disabledError(name: string, _frozen: boolean): QgaError {
    return errors.commandDisabled(name, this.disabled.has(name) ? undefined : errors.frozen());
  }
}

function optInByAllowRpcs(group: string): boolean {
  return Object.hasOwn(OPT_IN_GROUPS, group) && OPT_IN_GROUPS[group as OptInGroup].byAllowRpcs;
}

function alsoEnables(group: OptInGroup): readonly string[] {
  const g = OPT_IN_GROUPS[group];
  return 'alsoEnables' in g ? g.alsoEnables : [];
}
