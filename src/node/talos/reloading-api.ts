// A TalosApi that follows its talosconfig: before each call it compares the file's stamp and, when
// the file changed (Talos renewed the ServiceAccount certificate), connects anew with the new
// credentials. A file that cannot be read or parsed mid-rotation keeps the previous client, and the
// next call tries again, so a half-written Secret never takes the agent down.
import type { TalosApi } from './api.js';
import { TalosClient, type TalosClientOptions, type TalosTarget } from './client.js';
import type { CosiResource } from './messages.js';
import type { ProtoMessage } from './proto-wire.js';

export interface Refresh {
  stamp(): string;
  target(): TalosTarget;
}

export class ReloadingTalosApi implements TalosApi {
  private client: TalosClient;
  private stamp: string;
  /** Connections made so far (1 at start); for tests and the log. */
  generation = 1;

  constructor(
    target: TalosTarget,
    private readonly refresh: Refresh,
    private readonly opts: TalosClientOptions,
    private readonly makeClient: (t: TalosTarget, o: TalosClientOptions) => TalosClient = (t, o) => new TalosClient(t, o),
  ) {
    this.stamp = refresh.stamp();
    this.client = makeClient(target, opts);
  }

  private current(): TalosClient {
    const now = this.refresh.stamp();
    if (now === this.stamp) return this.client;
    let target: TalosTarget;
    try {
      target = this.refresh.target();
    } catch {
      return this.client;
    }
    const old = this.client;
    this.client = this.makeClient(target, this.opts);
    this.stamp = now;
    this.generation++;
    // Calls still running on the old channel get their full deadline before it closes.
    setTimeout(() => old.close(), this.opts.timeoutMs + 1000).unref();
    return this.client;
  }

  unary(method: string, request: Buffer): Promise<ProtoMessage[]> {
    return this.current().unary(method, request);
  }

  get(namespace: string, type: string, id: string): Promise<CosiResource | undefined> {
    return this.current().get(namespace, type, id);
  }

  list(namespace: string, type: string): Promise<CosiResource[]> {
    return this.current().list(namespace, type);
  }

  stream(method: string, request: Buffer, opts: { deadline: Date; signal: AbortSignal }): AsyncIterable<ProtoMessage> {
    return this.current().stream(method, request, opts);
  }

  close(): void {
    this.client.close();
  }
}
