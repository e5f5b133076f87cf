// What a command handler gets: the node back end and the agent's own services, nothing concrete.
import type { Logger } from 'pino';
import type { NodeBackend } from '../node/interfaces.js';
import type { CommandGroup, CommandsIn } from '../protocol/qga/commands.js';
import type { JsonValue } from '../protocol/qga/json-value.js';
import type { ExecRule } from './exec-rules.js';

/** Who sent a request on the management endpoint (a Kubernetes user); see Session.principal. */
export interface Principal {
  user: string;
  groups: readonly string[];
  uid?: string;
  extra?: Record<string, string[]>;
  /** How it was proven: a client certificate, a bearer token, or not yet (false). */
  authenticated: 'certificate' | 'token' | false;
}

/** Per-connection state (a host connection, or a virtio-serial open/close cycle). */
export interface Session {
  /** Set by guest-sync-delimited: prefix the next reply with 0xFF. */
  delimitNextReply: boolean;
  readonly id: number;
  /**
   * The authenticated peer of a management-endpoint connection (--listen tls://), checked by the
   * dispatcher's authorize step on every request. Absent on the hypervisor's channel, which has no
   * principal and is not subject to it.
   */
  readonly principal?: Principal;
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
  /** Programs guest-exec may start, each optionally pinned to arguments (--allow-exec, parsed). */
  allowExec: readonly ExecRule[];
  /** PATH of every guest-exec program, and where a bare program name is looked up (--exec-path). */
  execSearchPath: string;
  /** Environment variables a guest-exec request may set (--allow-exec-env); loader variables never pass. */
  allowExecEnv: readonly string[];
  /** Files or directory prefixes (ending in '/') guest-file-open may open for reading. */
  allowFileRead: readonly string[];
  /** Files or directory prefixes (ending in '/') guest-file-open may open for writing. */
  allowFileWrite: readonly string[];
  /** guest-file-open may open a file that has other hard links (their names may be outside the lists). */
  allowFileHardlinks: boolean;
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
  /** The Kubernetes user and groups, for requests on the management endpoint. */
  user?: string;
  groups?: readonly string[];
}

export interface CommandContext {
  node: NodeBackend;
  session: Session;
  state: AgentState;
  settings: CommandSettings;
  log: Logger;
  /**
   * Adds fields to this request's audit line (mutating commands only; absent otherwise): what the request
   * really touched, such as the path guest-file-open opened (`resolvedPath`).
   */
  audit?(fields: Record<string, unknown>): void;
  /** The agent's version and guest-info's command list, supplied by the dispatcher. */
  agentInfo(): { version: string; commands: { name: string; enabled: boolean; successResponse: boolean }[] };
}

/** A command handler: validated arguments in, a JSON-able result (or nothing) out; throws QgaError. */
export type Handler = (args: any, ctx: CommandContext) => Promise<JsonValue | undefined | void> | JsonValue | undefined | void;

/**
 * One group's handler map: exactly the commands the table puts in group G, no more, no fewer, so a
 * misspelt or missing key fails to compile (commands/handlers.typecheck.ts proves it).
 */
export type GroupHandlers<G extends CommandGroup> = Readonly<Record<CommandsIn<G>, Handler>>;
