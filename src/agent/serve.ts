// Ties a transport to the dispatcher: one stream reader and one in-order queue per connection.
import type { Logger } from 'pino';
import type { Session } from '../commands/context.js';
import type { Dispatcher } from '../dispatch/dispatcher.js';
import { type JsonEvent, type JsonLimits, JsonStreamReader } from '../protocol/qga/json-stream.js';
import type { Connection, Transport } from '../transport/types.js';

interface ConnState {
  reader: JsonStreamReader;
  session: Session;
  queue: Promise<void>;
  /** Requests parsed but not yet answered. */
  pending: number;
  paused: boolean;
  closed: boolean;
}

/**
 * A host that sends faster than it reads (or than commands finish) is paused at this many pending
 * requests and resumed when they are done: memory stays bounded whatever the host does.
 */
export const MAX_PENDING_REQUESTS = 64;

/** Serves QGA on a transport until it is closed. Requests on one connection run in order, like qemu-ga. */
export async function serve(transport: Transport, dispatcher: Dispatcher, log: Logger, limits?: JsonLimits): Promise<void> {
  const conns = new Map<number, ConnState>();
  const enqueue = (conn: Connection, st: ConnState, ev: JsonEvent) => {
    st.pending++;
    if (st.pending >= MAX_PENDING_REQUESTS && !st.paused && conn.pause) {
      st.paused = true;
      conn.pause();
    }
    st.queue = st.queue.then(async () => {
      const reply = await dispatcher.handle(ev, st.session);
      if (reply && !st.closed) await conn.write(reply);
      st.pending--;
      if (st.paused && st.pending === 0 && !st.closed) {
        st.paused = false;
        conn.resume?.();
      }
    });
  };
  await transport.start({
    opened: (conn) => log.debug({ conn: conn.id, transport: transport.name }, 'host connected'),
    data: (conn, chunk) => {
      let st = conns.get(conn.id);
      if (!st) {
        const session: Session = { id: conn.id, delimitNextReply: false };
        const state: ConnState = {
          session,
          queue: Promise.resolve(),
          pending: 0,
          paused: false,
          closed: false,
          reader: new JsonStreamReader((ev) => enqueue(conn, state, ev), limits),
        };
        st = state;
        conns.set(conn.id, st);
      }
      st.reader.feed(chunk);
    },
    closed: (conn) => {
      const st = conns.get(conn.id);
      if (st) st.closed = true;
      conns.delete(conn.id);
      log.debug({ conn: conn.id }, 'host disconnected');
    },
  });
}
