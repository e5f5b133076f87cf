// What the Talos back end's parts need from a Talos API connection (TalosClient implements it;
// unit tests pass a fake), so they never depend on gRPC directly.
import type { CosiResource } from './messages.js';
import type { ProtoMessage } from './proto-wire.js';

export interface TalosApi {
  /** A machine API call: the reply's `messages`, node errors already thrown. */
  unary(method: string, request: Buffer): Promise<ProtoMessage[]>;
  get(namespace: string, type: string, id: string): Promise<CosiResource | undefined>;
  list(namespace: string, type: string): Promise<CosiResource[]>;
  /** A server-streaming machine API call (EtcdSnapshot); absent where streams are not offered (unit-test fakes). */
  stream?(method: string, request: Buffer, opts: { deadline: Date; signal: AbortSignal }): AsyncIterable<ProtoMessage>;
}

/** The first answering node's message; apid answers with one per targeted node and we target one. */
export function first(messages: ProtoMessage[], call: string): ProtoMessage {
  const m = messages[0];
  if (m === undefined) throw new Error(`Talos API ${call} returned no message`);
  return m;
}
