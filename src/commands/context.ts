// What a command handler gets: the node back end and the agent's own services, nothing concrete.
import type { Logger } from 'pino';
import type { NodeBackend } from '../node/interfaces.js';
import type { JsonValue } from '../protocol/qga/json-value.js';

/** Per-connection state (a host connection, or a virtio-serial open/close cycle). */
export interface Session {
  /** Set by guest-sync-delimited: prefix the next reply with 0xFF. */
  delimitNextReply: boolean;
  readonly id: number;
}

/** State the agent keeps across connections and restarts (under --statedir). */
export interface AgentState {
  /** Next guest-file-open handle: starts at 1000 and never repeats, persisted like qemu-ga's. */
  nextFileHandle(): Promise<number>;
  readonly frozen: boolean;
  /** Sets or clears the frozen marker; `details` (the watchdog deadline) are kept with it across restarts. */
  setFrozen(frozen: boolean, details?: Record<string, unknown>): Promise<void>;
  /** The details saved with the frozen marker, if frozen. */
  frozenDetails(): Promise<Record<string, unknown> | undefined>;
}

/** Allow-lists and limits the commands enforce (from the validated config). */
export interface CommandSettings {
  /** Absolute paths of programs guest-exec may start; '*' allows any. */
  allowExec: readonly string[];
  /** Where guest-exec looks up a bare program name when the request's env has no PATH (the agent's PATH). */
  execSearchPath: string;
  /** Files or directory prefixes (ending in '/') guest-file-open may open for reading. */
  allowFileRead: readonly string[];
  /** Files or directory prefixes (ending in '/') guest-file-open may open for writing. */
  allowFileWrite: readonly string[];
  /** The fsfreeze hook script, when enabled (-F). */
  fsfreezeHook?: string;
  /** Seconds after which a freeze is undone by the agent itself; 0 turns the watchdog off. */
  fsfreezeTimeout: number;
  /** A failed etcd snapshot fails the freeze (nothing is frozen) instead of being reported only. */
  etcdSnapshotRequired?: boolean;
  /** Leave CNI/virtual interfaces out of guest-network-get-interfaces. */
  hideVirtualInterfaces: boolean;
  /** Leave interfaces without any IP address out of guest-network-get-interfaces. */
  hideInterfacesWithoutAddresses: boolean;
}

/** An audit record for a mutating request: what, with which arguments (secrets redacted), outcome. */
export interface AuditRecord {
  command: string;
  args?: Record<string, unknown>;
  outcome: 'ok' | 'error';
  error?: string;
  session: number;
}

export interface CommandContext {
  node: NodeBackend;
  session: Session;
  state: AgentState;
  settings: CommandSettings;
  log: Logger;
  /** The agent's version and guest-info's command list, supplied by the dispatcher. */
  agentInfo(): { version: string; commands: { name: string; enabled: boolean; successResponse: boolean }[] };
}

/** A command handler: validated arguments in, a JSON-able result (or nothing) out; throws QgaError. */
export type Handler = (args: any, ctx: CommandContext) => Promise<JsonValue | undefined | void> | JsonValue | undefined | void;
