// What a QGA command's entry in the table says (command-table.ts): its arguments, return shape, group and
// the flags that validation, policy, the audit log, the peer tests and the bench derive from.
import type { Members, TypeRef } from './schema.js';

/**
 * Which part of guestlink a command touches. Each group's handlers are one map that must name exactly
 * the group's commands (commands/index.ts), and the policy turns off-by-default commands on by group
 * (OPT_IN_GROUPS).
 */
export type CommandGroup =
  | 'control'
  | 'info'
  | 'network'
  | 'time'
  | 'power'
  | 'file'
  | 'exec'
  | 'freeze'
  | 'storage'
  | 'accounts'
  | 'hardware'
  | 'authenticate'
  | 'etcd';

/**
 * How the audit log records an argument instead of its value: `secret` as "[redacted]"; `bulk` (base64
 * payloads) as its size; `env` (KEY=VALUE entries) with the names kept and the values hidden; `argv`
 * (program arguments) with secret-looking values hidden (dispatch/redact.ts has the rule).
 */
export type ArgRedaction = 'secret' | 'bulk' | 'env' | 'argv';

export interface CommandSpec {
  /** Arguments in QAPI notation ('*name' optional); absent: takes none. */
  args?: Members;
  /** Return type; absent: returns {} (or nothing, for no-success-response commands). */
  returns?: TypeRef;
  /** qemu's 'success-response': false — no reply is sent when the command succeeds. */
  successResponse?: false;
  /** The qemu-ga version that introduced it (for docs and for clients that probe). */
  since: string;
  group: CommandGroup;
  /** Changes the guest: audit-logged. */
  mutating?: true;
  /**
   * Changes this machine beyond the agent's own allow-listed files and programs (power, freeze, clock,
   * passwords, SSH keys, vCPUs, memory, fstrim): the peer tests and the bench block every such command,
   * so a new one can never run against the machine the tests run on.
   */
  changesMachine?: true;
  /** Stays enabled while filesystems are frozen (qemu-ga's fixed list). */
  allowedWhileFrozen?: true;
  /** Off unless the configuration opts the command's group in (OPT_IN_GROUPS): guestlink's secure default. */
  offByDefault?: true;
  /** Arguments the audit log must not record as sent, and how it records them instead. */
  redact?: Readonly<Record<string, ArgRedaction>>;
  doc: string;
}
