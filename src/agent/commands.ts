// What the dispatcher is given from the configuration: the command settings, the policy (allow and
// block lists, the opt-in groups the settings turn on, what the back end cannot serve), and the
// state the stateful commands keep (open files, running programs, the freeze), one of each per agent.
import type { CommandSettings } from '../commands/context.js';
import { neverAllowedEnv } from '../commands/exec-env.js';
import { parseExecRule } from '../commands/exec-rules.js';
import { ExecTable } from '../commands/exec-table.js';
import { FileTable } from '../commands/file-table.js';
import { FreezeController } from '../commands/freeze.js';
import { createHandlers, type Handlers } from '../commands/index.js';
import { CommandPolicy } from '../dispatch/policy.js';
import { nativeSpawn } from '../native/addon.js';
import type { NodeBackend, ProcessRunner } from '../node/interfaces.js';
import type { OptInGroup } from '../protocol/qga/commands.js';
import type { AgentConfig } from './config.js';
import { lazyFreezeHook, lazyProcessRunner } from './lazy-runners.js';

/** The settings the command handlers read (CommandContext.settings), from the frozen config. */
export function commandSettings(config: AgentConfig): CommandSettings {
  return {
    allowExec: config.allowExec.map(parseExecRule),
    execSearchPath: config.execPath,
    // Never-allowed names were warned about at start-up; leaving them out here keeps them out for good.
    allowExecEnv: config.allowExecEnv.filter((name) => !neverAllowedEnv(name)),
    // --etcd-snapshot-on-demand lets guest-file-open read the snapshot directory (and nothing more).
    allowFileRead:
      config.etcdSnapshotOnDemand && config.etcdSnapshotDir
        ? [...config.allowFileRead, `${config.etcdSnapshotDir.replace(/\/+$/, '')}/`]
        : config.allowFileRead,
    allowFileWrite: config.allowFileWrite,
    allowFileHardlinks: config.allowFileHardlinks,
    fsfreezeHook: config.fsfreezeHook,
    fsfreezeTimeout: config.fsfreezeTimeout,
    etcdSnapshotRequired: config.etcdSnapshotRequired,
    hideVirtualInterfaces: config.hideVirtualInterfaces,
    hideInterfacesWithoutAddresses: config.hideInterfacesWithoutAddresses,
  };
}

/** The groups whose off-by-default commands the configuration turns on (OPT_IN_GROUPS in the table). */
export function optInGroups(config: AgentConfig): OptInGroup[] {
  const etcdOnDemand = config.etcdSnapshotOnDemand && config.etcdSnapshotDir !== undefined;
  const on: Record<OptInGroup, boolean> = {
    exec: config.allowExec.length > 0,
    file: config.allowFileRead.length > 0 || config.allowFileWrite.length > 0,
    accounts: config.allowAccountChanges,
    authenticate: config.listen !== undefined && config.listenTokens,
    etcd: etcdOnDemand,
  };
  return (Object.keys(on) as OptInGroup[]).filter((g) => on[g]);
}

/** The command side of one agent: what the dispatcher runs, and the state close() must end. */
export interface AgentCommands {
  handlers: Handlers;
  policy: CommandPolicy;
  settings: CommandSettings;
  files: FileTable;
  exec: ExecTable;
  freeze: FreezeController;
}

/**
 * guest-exec's runner: the addon's spawn (no page-table copy, the exit seen through a pidfd) when the addon
 * is there, else node:child_process. Loaded at the first exec, so an agent that never runs a program loads
 * neither (the runner modules bring node:net and node:child_process).
 */
async function loadExecRunner(): Promise<ProcessRunner> {
  const spawn = nativeSpawn();
  if (spawn) return new (await import('../node/linux/process-runner-native.js')).NativeProcessRunner(spawn);
  return new (await import('../node/linux/process-runner.js')).ChildProcessRunner();
}

/** Builds the handlers with their state, the policy and the settings for one agent. */
export function createCommands(config: AgentConfig, node: NodeBackend): AgentCommands {
  const policy = new CommandPolicy({
    allowRpcs: config.allowRpcs,
    blockRpcs: config.blockRpcs,
    optInGroups: optInGroups(config),
    unsupported: node.unsupportedCommands,
  });
  // guest-file-* handles are shared by all connections and bounded by --max-file-handles.
  const files = new FileTable(config.maxFileHandles);
  // Loaded at the first guest-exec (lazy-runners.ts): the addon's spawn when it has one, else node:child_process.
  const exec = new ExecTable(lazyProcessRunner(loadExecRunner), {
    maxProcesses: config.maxExecProcesses,
    maxOutputBytes: config.maxExecOutputBytes,
    maxInputBytes: config.maxExecInputBytes,
  });
  const freeze = new FreezeController({ runHook: lazyFreezeHook });
  return { handlers: createHandlers({ files, exec, freeze }), policy, settings: commandSettings(config), files, exec, freeze };
}
