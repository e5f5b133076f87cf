// One request in, one reply out: envelope check -> lookup -> policy -> frozen filter -> argument
// check -> handler -> encode. Every thrown error becomes a QGA error reply; nothing escapes.
import type { Logger } from 'pino';
import type { AgentState, CommandContext, CommandSettings, Handler, Session } from '../commands/context.js';
import type { NodeBackend } from '../node/interfaces.js';
import { COMMAND_NAMES, type CommandSpec, findCommand } from '../protocol/qga/commands.js';
import { errors, QgaError, toQgaError } from '../protocol/qga/errors.js';
import type { JsonEvent } from '../protocol/qga/json-stream.js';
import { type JsonObject, type JsonParts, type JsonValue, partsToBuffer } from '../protocol/qga/json-value.js';
import { DELIMITER, encodeError, encodeReturn, parseRequest, requestId } from '../protocol/qga/request.js';
import { checkArguments } from '../protocol/qga/schema.js';
import { QGA_TYPES } from '../protocol/qga/types.js';
import { type Authorize, accessVerb } from './authorize.js';
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
  /** The management endpoint's authentication and authorization (authorize.ts); absent: no endpoint. */
  authorize?: Authorize;
}

/** A reply ready for the wire, or null when the protocol says nothing is sent. May be shared: never modify one. */
export type Reply = Buffer | null;

/** `{"return": {}}` without an id (guest-ping and the other commands that return nothing): built once. */
const EMPTY_RETURN = Buffer.from('{"return": {}}\n');
const EMPTY_RETURN_DELIMITED = Buffer.concat([Buffer.from([DELIMITER]), EMPTY_RETURN]);

/** guest-info's content (built once per frozen state and shared). */
export type AgentInfo = ReturnType<CommandContext['agentInfo']>;

/** A handler's result before encoding. */
type Result = JsonValue | undefined | void;

const isPromise = <T>(v: T | Promise<T>): v is Promise<T> => v instanceof Promise;

/** Whether this reply is the one guest-sync-delimited asked to lead with 0xFF (asked once, taken once). */
function takeDelimiter(session: Session): boolean {
  const lead = session.delimitNextReply;
  session.delimitNextReply = false;
  return lead;
}

/** `{}` (what guest-ping and other commands without a result return): printed as `{}` like any object without members. */
function isEmptyObject(v: unknown): boolean {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) return false;
  for (const _ in v) return false;
  return true;
}

export class Dispatcher {
  /** One context per session, made on its first request (sessions live as long as their connection). */
  private readonly contexts = new WeakMap<Session, CommandContext>();
  private readonly agentInfo = () => this.info();
  /** info() while thawed [0] and while frozen [1]. */
  private readonly infoCache: [AgentInfo?, AgentInfo?] = [];

  constructor(private readonly deps: DispatcherDeps) {}

  /**
   * Handles one event from the stream reader for `session`. Synchronous when the handler is (guest-ping,
   * guest-sync-delimited, guest-info...): the reply comes back directly, without a promise or a microtask
   * hop; a promise only when the handler returned one. Never throws and the promise never rejects: every
   * error becomes a QGA error reply.
   */
  dispatch(ev: JsonEvent, session: Session): Reply | Promise<Reply> {
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
      if (session.principal !== undefined && this.deps.authorize) {
        const refused = this.deps.authorize(session, { command: name, verb: accessVerb(spec), args: req.arguments });
        if (refused instanceof QgaError) throw refused;
        if (refused !== undefined) return this.afterAuthorized(refused, spec, handler, req.arguments, session, id, name);
      }
      return this.execute(spec, handler, req.arguments, session, id, name);
    } catch (err) {
      return this.fail(session, err, id, name);
    }
  }

  // The promise continuations live in functions of their own (afterAuthorized, afterHandler): closures in
  // dispatch() or execute() would capture their parameters and make every call allocate a context, the
  // requests answered at once included (docs/benchmarks.md, "ping path").

  /** Runs the request once the authorizer's promise settles (the refusal, if any, is the reply). */
  private afterAuthorized(
    refused: Promise<QgaError | undefined>,
    spec: CommandSpec,
    handler: Handler,
    args: JsonObject,
    session: Session,
    id: JsonValue | undefined,
    name: string,
  ): Promise<Reply> {
    return refused.then(
      (r) => (r ? this.fail(session, r, id, name) : this.execute(spec, handler, args, session, id, name)),
      (err: unknown) => this.fail(session, err, id, name),
    );
  }

  /** Runs the handler and encodes its reply: synchronously when the handler is. */
  private execute(spec: CommandSpec, handler: Handler, args: JsonObject, session: Session, id: JsonValue | undefined, name: string) {
    try {
      const result = this.run(name, spec, handler, args, session);
      if (!isPromise(result)) return this.reply(spec, session, result, id, name);
      return this.afterHandler(result, spec, session, id, name);
    } catch (err) {
      return this.fail(session, err, id, name);
    }
  }

  /** The reply to a handler that returned a promise. */
  private afterHandler(
    result: Promise<Result>,
    spec: CommandSpec,
    session: Session,
    id: JsonValue | undefined,
    name: string,
  ): Promise<Reply> {
    return result.then(
      (r) => this.reply(spec, session, r, id, name),
      (err: unknown) => this.fail(session, err, id, name),
    );
  }

  /** The success reply (none for commands without one); an encoding failure still gets an error reply. */
  private reply(spec: CommandSpec, session: Session, result: Result, id: JsonValue | undefined, name: string): Reply {
    if (spec.successResponse === false) return null;
    if (id === undefined && (result == null || isEmptyObject(result)))
      return takeDelimiter(session) ? EMPTY_RETURN_DELIMITED : EMPTY_RETURN;
    try {
      return this.wire(session, encodeReturn(result == null ? {} : result, id));
    } catch (err) {
      return this.fail(session, err, id, name);
    }
  }

  private fail(session: Session, err: unknown, id: JsonValue | undefined, name: string | undefined): Buffer {
    const qerr = toQgaError(err);
    if (qerr.code === 'INTERNAL') this.deps.log.error({ err, command: name }, 'command failed unexpectedly');
    return this.wire(session, encodeError(qerr, id));
  }

  /** Calls the handler; mutating commands leave an audit line with the outcome, whether sync or async. */
  private run(name: string, spec: CommandSpec, handler: Handler, args: JsonObject, session: Session): Result | Promise<Result> {
    const ctx = this.context(session);
    if (!spec.mutating) return handler(args, ctx);
    const who = session.principal;
    const record = {
      command: name,
      args: redactArgs(name, args),
      session: session.id,
      ...(who ? { user: who.user, groups: who.groups } : {}),
    };
    // What the handler adds (ctx.audit), such as the path a file was really opened at.
    const details: Record<string, unknown> = {};
    const requestCtx: CommandContext = { ...ctx, audit: (fields) => Object.assign(details, fields) };
    const ok = <T>(result: T): T => {
      this.deps.audit.info({ ...record, ...details, outcome: 'ok' }, `audit ${name}`);
      return result;
    };
    const failed = (err: unknown): never => {
      this.deps.audit.warn({ ...record, ...details, outcome: 'error', error: toQgaError(err).desc }, `audit ${name}`);
      throw err;
    };
    let result: Result | Promise<Result>;
    try {
      result = handler(args, requestCtx);
    } catch (err) {
      return failed(err);
    }
    return isPromise(result) ? result.then(ok, failed) : ok(result);
  }

  private context(session: Session): CommandContext {
    let ctx = this.contexts.get(session);
    if (!ctx) {
      const { node, state, settings, log } = this.deps;
      ctx = { node, session, state, settings, log, agentInfo: this.agentInfo };
      this.contexts.set(session, ctx);
    }
    return ctx;
  }

  /** guest-info's content: the table order, enabled as the policy says right now. */
  info(): AgentInfo {
    const frozen = this.deps.state.frozen;
    // The policy is fixed once the agent runs, so there are only two answers: built once each.
    const cached = this.infoCache[frozen ? 1 : 0];
    if (cached) return cached;
    // Shared by every guest-info reply from now on: handlers read it, never change it.
    const info: AgentInfo = {
      version: this.deps.version,
      commands: COMMAND_NAMES.map((name) => ({
        name,
        enabled: this.deps.policy.enabled(name, frozen),
        successResponse: findCommand(name)?.successResponse !== false,
      })),
    };
    this.infoCache[frozen ? 1 : 0] = info;
    return info;
  }

  /** The reply bytes; 0xFF first when guest-sync-delimited asked for it. */
  private wire(session: Session, reply: string | JsonParts): Buffer {
    const lead = takeDelimiter(session) ? DELIMITER : undefined;
    return partsToBuffer(typeof reply === 'string' ? [reply] : reply, lead);
  }
}
