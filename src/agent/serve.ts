// Ties a transport to the dispatcher: one stream reader and one in-order queue per connection.
//
// The hot path (guest-ping, guest-sync-delimited, guest-info: the pings Proxmox and libvirt send all the
// time) runs without a promise: a request whose handler returns at once is answered inside the transport's
// data callback, and the next one is taken straight after. Only a handler that returns a promise, or a
// write the transport cannot take at once, makes the connection wait (`busy`); requests that arrive
// meanwhile queue up in order. Why: natively the agent's whole per-request work is ~10 us, so each
// promise/microtask hop shows, and under TCG (the test VM) every hop costs ~20x more.
import type { Logger } from 'pino';
import type { Session } from '../commands/context.js';
import type { Dispatcher, Reply } from '../dispatch/dispatcher.js';
import { type JsonEvent, type JsonLimits, JsonStreamReader } from '../protocol/qga/json-stream.js';
import type { Connection, Transport } from '../transport/types.js';

interface ConnState {
  conn: Connection;
  reader: JsonStreamReader;
  session: Session;
  /** Requests parsed but not yet started, oldest first (only while busy). */
  waiting: JsonEvent[];
  /** A request's handler or its reply's write is under way: the rest wait their turn. */
  busy: boolean;
  paused: boolean;
  closed: boolean;
}

/**
 * A host that sends faster than it reads (or than commands finish) is paused at this many pending
 * requests and resumed when they are done: memory stays bounded whatever the host does.
 */
export const MAX_PENDING_REQUESTS = 64;

const isPromise = <T>(v: T | Promise<T>): v is Promise<T> => v instanceof Promise;

/** Serves QGA on a transport until it is closed. Requests on one connection run in order, like qemu-ga. */
export async function serve(transport: Transport, dispatcher: Dispatcher, log: Logger, limits?: JsonLimits): Promise<void> {
  const conns = new Map<number, ConnState>();

  /** Requests parsed and not yet answered: the waiting ones and the one under way. */
  const pending = (st: ConnState) => st.waiting.length + (st.busy ? 1 : 0);

  const onRequest = (st: ConnState, ev: JsonEvent) => {
    if (st.busy) {
      st.waiting.push(ev);
      if (pending(st) >= MAX_PENDING_REQUESTS && !st.paused && st.conn.pause) {
        st.paused = true;
        st.conn.pause();
      }
      return;
    }
    run(st, ev);
  };

  /** Runs requests until one has to wait (busy) or none is left. */
  const run = (st: ConnState, first: JsonEvent | undefined) => {
    let ev = first ?? st.waiting.shift();
    while (ev !== undefined) {
      const reply = dispatcher.dispatch(ev, st.session);
      if (isPromise(reply)) {
        st.busy = true;
        reply.then((r) => afterWait(st, send(st, r)));
        return;
      }
      const written = send(st, reply);
      if (written) {
        st.busy = true;
        written.then(() => afterWait(st, undefined));
        return;
      }
      ev = st.waiting.shift();
    }
    if (st.paused && !st.closed) {
      st.paused = false;
      st.conn.resume?.();
    }
  };

  /** Hands a reply to the transport; a promise when the connection has to wait for the write. */
  const send = (st: ConnState, reply: Reply): Promise<void> | undefined => (reply && !st.closed ? st.conn.write(reply) : undefined);

  const afterWait = (st: ConnState, written: Promise<void> | undefined) => {
    if (written) {
      written.then(() => afterWait(st, undefined));
      return;
    }
    st.busy = false;
    run(st, undefined);
  };

  await transport.start({
    opened: (conn) => log.debug({ conn: conn.id, transport: transport.name }, 'host connected'),
    data: (conn, chunk) => {
      let st = conns.get(conn.id);
      if (!st) {
        const state: ConnState = {
          conn,
          // The transport's peer identity (management endpoint) is the session's principal, the same
          // object: an in-band authentication completes both.
          session: { id: conn.id, delimitNextReply: false, principal: conn.peer },
          waiting: [],
          busy: false,
          paused: false,
          closed: false,
          reader: new JsonStreamReader((ev) => onRequest(state, ev), limits),
        };
        st = state;
        conns.set(conn.id, st);
      }
      st.reader.feed(chunk);
    },
    closed: (conn) => {
      // Requests already parsed still run (a guest-shutdown sent just before the host hung up is carried
      // out, as qemu-ga does); their replies are dropped.
      const st = conns.get(conn.id);
      if (st) st.closed = true;
      conns.delete(conn.id);
      log.debug({ conn: conn.id }, 'host disconnected');
    },
  });
}
