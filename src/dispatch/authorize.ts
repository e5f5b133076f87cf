// The management endpoint's access check as the dispatcher sees it: a policy step beside the
// allow/block lists, asked for every request of a session that has a principal (a network
// connection), never for the hypervisor's channel. What the verb is comes from the command table:
// "update" for mutating commands, "get" for the rest, as RBAC on nodes/guestlink grants them.
import type { Session } from '../commands/context.js';
import type { CommandSpec } from '../protocol/qga/commands.js';
import type { QgaError } from '../protocol/qga/errors.js';
import type { JsonObject } from '../protocol/qga/json-value.js';

export type AccessVerb = 'get' | 'update';

export interface AccessRequest {
  command: string;
  verb: AccessVerb;
  /** Validated arguments (guestlink-authenticate's token is read from them). */
  args: JsonObject;
}

/**
 * undefined: go on. A QgaError: refuse with it. A promise of either when the answer has to be fetched
 * (the dispatcher stays synchronous for answers that are known, such as a cached "allowed").
 */
export type Authorize = (session: Session, req: AccessRequest) => QgaError | undefined | Promise<QgaError | undefined>;

/** get for read-only commands, update for mutating ones (the command table's `mutating` flag). */
export function accessVerb(spec: CommandSpec): AccessVerb {
  return spec.mutating ? 'update' : 'get';
}
