// One request in, one reply out: envelope check -> lookup -> policy -> frozen filter -> argument
// check -> handler -> encode. Every thrown error becomes a QGA error reply; nothing escapes.
import type { Logger } from 'pino';
import type { AgentState, CommandContext, CommandSettings, Handler, Session } from '../commands/context.js';
import type { NodeBackend } from '../node/interfaces.js';
import { COMMAND_NAMES, type CommandSpec, findCommand } from '../protocol/qga/commands.js';
import { errors, QgaError, toQgaError } from '../protocol/qga/errors.js';
import type { JsonEvent } from '../protocol/qga/json-stream.js';
import { type JsonObject, type JsonParts, partsToBuffer } from '../protocol/qga/json-value.js';
import { DELIMITER, encodeError, encodeReturn, parseRequest, requestId } from '../protocol/qga/request.js';
import { checkArguments } from '../protocol/qga/schema.js';
import { QGA_TYPES } from '../protocol/qga/types.js';
import type { CommandPolicy } from './policy.js';
import { redactArgs } from './redact.js';

export interface DispatcherDeps {
  version: string;
  handlers: Readonly<Record<string, Handler>>;
  policy: CommandPolicy;
  node: NodeBackend;
  state: AgentState;
  settings: CommandSettings;
  log: Logger;
  /** JSON lines for mutating requests; pino child of the main logger with `audit: true`. */
  audit: Logger;
}

/** A reply ready for the wire, or null when the protocol says nothing is sent. */
export type Reply = Buffer | null;

export class Dispatcher {
  constructor(private readonly deps: DispatcherDeps) {}

  /** Handles one event from the stream reader for `session`. */
  async handle(ev: JsonEvent, session: Session): Promise<Reply> {
    if ('error' in ev) return this.wire(session, encodeError(new QgaError('GenericError', ev.error, 'PARSE_ERROR')));
    const id = requestId(ev.value);
    let name: string | undefined;
    try {
      const req = parseRequest(ev.value);
      name = req.execute;
      const spec = findCommand(name);
      if (!spec) throw errors.commandNotFound(name);
      const frozen = this.deps.state.frozen;
      if (!this.deps.policy.enabled(name, frozen)) throw this.deps.policy.disabledError(name, frozen);
      checkArguments(QGA_TYPES, spec.args, req.arguments);
      const handler = this.deps.handlers[name];
      if (!handler) throw errors.unsupported();
      const result = await this.run(name, spec, handler, req.arguments, session);
      if (spec.successResponse === false) return null;
      return this.wire(session, encodeReturn(result === undefined ? {} : result, id));
    } catch (err) {
      const qerr = toQgaError(err);
      if (qerr.code === 'INTERNAL') this.deps.log.error({ err, command: name }, 'command failed unexpectedly');
      return this.wire(session, encodeError(qerr, id));
    }
  }

  private async run(name: string, spec: CommandSpec, handler: Handler, args: JsonObject, session: Session) {
    const ctx = this.context(session);
    if (!spec.mutating) return (await handler(args, ctx)) ?? undefined;
    const record = { command: name, args: redactArgs(name, args), session: session.id };
    try {
      const result = (await handler(args, ctx)) ?? undefined;
      this.deps.audit.info({ ...record, outcome: 'ok' }, `audit ${name}`);
      return result;
    } catch (err) {
      this.deps.audit.warn({ ...record, outcome: 'error', error: toQgaError(err).desc }, `audit ${name}`);
      throw err;
    }
  }

  private context(session: Session): CommandContext {
    const { node, state, settings, log } = this.deps;
    return { node, session, state, settings, log, agentInfo: () => this.info() };
  }

  /** guest-info's content: the table order, enabled as the policy says right now. */
  info() {
    const frozen = this.deps.state.frozen;
    return {
      version: this.deps.version,
      commands: COMMAND_NAMES.map((name) => ({
        name,
        enabled: this.deps.policy.enabled(name, frozen),
        successResponse: findCommand(name)?.successResponse !== false,
      })),
    };
  }

  /** The reply bytes; 0xFF first when guest-sync-delimited asked for it. */
  private wire(session: Session, reply: string | JsonParts): Buffer {
    const lead = session.delimitNextReply ? DELIMITER : undefined;
    session.delimitNextReply = false;
    return partsToBuffer(typeof reply === 'string' ? [reply] : reply, lead);
  }
}
