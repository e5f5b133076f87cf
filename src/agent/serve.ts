// Ties a transport to the dispatcher: one stream reader per connection, one request at a time.
//
// The hot path (guest-ping, guest-sync-delimited, guest-info: the pings Proxmox and libvirt send all the
// time) runs without a promise: a request whose handler returns at once is answered inside the transport's
// data callback, and the next one is read straight after. Why: natively the agent's whole per-request work
// is ~10 us, so each promise/microtask hop shows, and under TCG (the test VM) every hop costs ~20x more.
//
// Flow control: only a handler that returns a promise, or a write the transport cannot take at once, makes
// the connection wait (`busy`). The reader then stops right after that request (JsonStreamReader.feed
// returns where it stopped); the rest of the chunk is kept and the transport paused until the request is
// done. So a connection holds at most one request under way, one unfinished message and one chunk, however
// fast its host sends and whether or not it reads: memory stays bounded, and replies stay in order.
// Parsing ahead would buy nothing: the next request could only run after this one anyway.
import type { Logger } from 'pino';
import type { Session } from '../commands/context.js';
import type { Dispatcher, Reply } from '../dispatch/dispatcher.js';
import { BULK_ARGUMENTS } from '../protocol/qga/commands.js';
import { genericError } from '../protocol/qga/errors.js';
import { releaseReply, replySpareBytes, trimReplySpares } from '../protocol/qga/json-reply.js';
import {
  type BulkOptions,
  type JsonEvent,
  type JsonLimits,
  JsonStreamReader,
  maxMessageCharge,
  QEMU_JSON_LIMITS,
} from '../protocol/qga/json-stream.js';
import { encodeError } from '../protocol/qga/request.js';
import { SpareBuffers } from '../protocol/qga/spare-buffers.js';
import type { Connection, Transport } from '../transport/types.js';
import { RequestBudget } from './request-budget.js';

interface ConnState {
  conn: Connection;
  reader: JsonStreamReader;
  session: Session;
  /** Bytes received and not read yet (a request is under way): read when it is done, oldest first. */
  input: Buffer[];
  /** Where reading stopped in input[0]. */
  inputAt: number;
  /** A request's handler or its reply's write is under way: the rest wait their turn. */
  busy: boolean;
  paused: boolean;
  closed: boolean;
  /** The budget charge of the unfinished message, as last counted. */
  charged: number;
  /** The budget charge of the request under way. */
  running: number;
}

/** How serve() bounds what hosts send (src/agent/main.ts passes the settings). */
export interface ServeOptions {
  /** Per-message limits (default qemu's, QEMU_JSON_LIMITS). */
  limits?: JsonLimits;
  /** Bytes all connections' requests may hold together (RequestBudget); default: what one largest message may hold (maxMessageCharge). */
  maxBufferedBytes?: number;
}

/** What a unix-listen host over --max-connections gets before it is disconnected: a QGA error line. */
export function connectionRefusal(max: number): Buffer {
  return Buffer.from(
    encodeError(
      genericError(
        `too many connections: the agent serves ${max} hosts at once (--max-connections); try again later`,
        'TOO_MANY_CONNECTIONS',
      ),
    ),
  );
}

const isPromise = <T>(v: T | Promise<T>): v is Promise<T> => v instanceof Promise;

/**
 * Spare chunks for requests' bulk data (base64 kept as bytes, json-bulk.ts), shared by all connections of a
 * transport: enough for one request of 16 MiB of input-data or a 24 MiB file chunk (32 MiB of base64), so a
 * stream of such requests (or a flood of refused ones) reuses the same memory instead of leaving each
 * request's bytes to the garbage collector. They stay resident while such requests keep coming, and are
 * dropped (to the collector) once the agent idles: SPARE_IDLE_MS.
 */
const BULK_SPARE_BYTES = 32 << 20;
/**
 * Spares (bulk chunks, reply buffers) are dropped once no request has used them for this long, so that the
 * agent does not idle with them resident after a transfer or a flood: a transfer's requests come much closer
 * together than this, so they keep reusing the same memory while it runs.
 */
const SPARE_IDLE_MS = 1000;

/** Serves QGA on a transport until it is closed. Requests on one connection run in order, like qemu-ga. */
export async function serve(transport: Transport, dispatcher: Dispatcher, log: Logger, opts: ServeOptions = {}): Promise<void> {
  const conns = new Map<number, ConnState>();
  const budget = new RequestBudget(opts.maxBufferedBytes ?? maxMessageCharge(opts.limits ?? QEMU_JSON_LIMITS));
  const bulk: BulkOptions = { keys: BULK_ARGUMENTS, spares: new SpareBuffers(BULK_SPARE_BYTES) };
  const trimSpares = setTimeout(() => {
    bulk.spares.trim();
    trimReplySpares();
  }, SPARE_IDLE_MS);
  trimSpares.unref();

  /**
   * Runs one request from the reader; false (stop reading) when the connection now has to wait. The waits
   * are in functions of their own: a closure here would capture `st` and make every call allocate a context,
   * the answered-at-once requests included (garbage per ping, see docs/benchmarks.md "ping path").
   */
  const onRequest = (st: ConnState, ev: JsonEvent): boolean => {
    const reply = dispatcher.dispatch(ev, st.session);
    if (isPromise(reply)) {
      waitForReply(st, reply);
      return false;
    }
    const written = send(st, reply);
    if (!written) {
      if (reply) releaseReply(reply);
      return true;
    }
    startWaiting(st);
    whenWritten(st, reply, written);
    return false;
  };

  /** A handler returned a promise: the connection waits for its reply. */
  const waitForReply = (st: ConnState, reply: Promise<Reply>) => {
    startWaiting(st);
    reply.then((r) => replied(st, r));
  };

  const startWaiting = (st: ConnState) => {
    st.busy = true;
    st.running = budget.charge(st.reader.lastMessageBytes);
    budget.total += st.running;
  };

  /** Hands a reply to the transport; a promise when the connection has to wait for the write. */
  const send = (st: ConnState, reply: Reply): Promise<void> | undefined => (reply && !st.closed ? st.conn.write(reply) : undefined);

  /** A handler's reply came: once written (or the host is gone) the connection reads on. */
  const replied = (st: ConnState, reply: Reply) => {
    const written = send(st, reply);
    if (written) return whenWritten(st, reply, written);
    if (reply) releaseReply(reply);
    afterWait(st);
  };

  /** The transport took the reply: its buffer is reused (json-reply.ts), and the connection reads on. */
  const whenWritten = (st: ConnState, reply: Reply, written: Promise<void>) => {
    written.then(() => {
      if (reply) releaseReply(reply);
      afterWait(st);
    });
  };

  const afterWait = (st: ConnState) => {
    // The request is answered: its bulk strings go back to the pool before anything else is read.
    st.reader.release();
    if (bulk.spares.spareBytes > 0 || replySpareBytes() > 0) trimSpares.refresh();
    st.busy = false;
    budget.total -= st.running;
    st.running = 0;
    readInput(st);
  };

  /** Reads chunk from `from` on; keeps what the reader did not take (a request is under way) for later. */
  const read = (st: ConnState, chunk: Buffer, from: number, to = chunk.length): number => {
    const end = st.reader.feed(chunk, from, to);
    account(st);
    return end;
  };

  /** Charges the unfinished message to the budget; refuses it when that takes the total past the limit. */
  const account = (st: ConnState) => {
    const now = budget.charge(st.reader.bufferedBytes);
    if (now === st.charged) return;
    const grew = now > st.charged;
    budget.total += now - st.charged;
    st.charged = now;
    if (!grew || budget.total <= budget.limit || st.closed) return;
    log.warn(
      { conn: st.conn.id, bytes: st.reader.bufferedBytes, total: budget.total, limit: budget.limit },
      'request refused: over budget',
    );
    budget.total -= st.charged;
    st.charged = 0;
    st.reader.abandon(budget.overText);
  };

  /** Reads what was kept while the connection waited, until it has to wait again or nothing is left. */
  const readInput = (st: ConnState) => {
    while (!st.busy && st.input.length > 0) {
      const chunk = st.input[0] as Buffer;
      const end = read(st, chunk, st.inputAt);
      if (end < chunk.length) st.inputAt = end;
      else {
        st.input.shift();
        st.inputAt = 0;
      }
    }
    if (st.busy) return;
    if (st.closed) release(st);
    else if (st.paused) {
      st.paused = false;
      st.conn.resume?.();
    }
  };

  /** A host left: its unfinished message no longer counts, and its bytes go back to the pool. */
  const release = (st: ConnState) => {
    budget.total -= st.charged;
    st.charged = 0;
    st.reader.reset();
  };

  /** Keeps bytes for later (a copy: transports may reuse their buffer) and stops the transport meanwhile. */
  const keep = (st: ConnState, bytes: Buffer) => {
    st.input.push(Buffer.from(bytes));
    if (!st.paused && st.conn.pause) {
      st.paused = true;
      st.conn.pause();
    }
  };

  const newState = (conn: Connection): ConnState => {
    const st: ConnState = {
      conn,
      // The transport's peer identity (management endpoint) is the session's principal, the same
      // object: an in-band authentication completes both.
      session: { id: conn.id, delimitNextReply: false, principal: conn.peer },
      input: [],
      inputAt: 0,
      busy: false,
      paused: false,
      closed: false,
      charged: 0,
      running: 0,
      reader: new JsonStreamReader((ev) => onRequest(st, ev), opts.limits, { bulk }),
    };
    conns.set(conn.id, st);
    return st;
  };

  await transport.start({
    opened: (conn) => log.debug({ conn: conn.id, transport: transport.name }, 'host connected'),
    data: (conn, chunk, length = chunk.length) => {
      const st = conns.get(conn.id) ?? newState(conn);
      if (st.busy || st.input.length > 0) return keep(st, chunk.subarray(0, length));
      const end = read(st, chunk, 0, length);
      if (end < length) keep(st, chunk.subarray(end, length));
    },
    closed: (conn) => {
      // Requests already received still run (a guest-shutdown sent just before the host hung up is carried
      // out, as qemu-ga does), those kept while one was under way included; their replies are dropped.
      const st = conns.get(conn.id);
      if (st) {
        st.closed = true;
        if (!st.busy) release(st);
      }
      conns.delete(conn.id);
      log.debug({ conn: conn.id }, 'host disconnected');
    },
  });
}
