// One QGA connection per connector, opened on first use and opened again (with a fresh sync) when
// the agent dropped it; a call that was in flight is never repeated, since it may have run. Shared by
// the stream connectors (unix:, tls://, node://).
import type { JsonObject, JsonValue } from '../../protocol/qga/json-value.js';
import type { QgaClient } from '../client.js';
import type { CallOptions } from '../connection.js';

export class LazyClient {
  private client: QgaClient | undefined;
  private connecting: Promise<QgaClient> | undefined;

  constructor(private readonly open: (opts: CallOptions) => Promise<QgaClient>) {}

  private async connected(opts: CallOptions): Promise<QgaClient> {
    if (this.client && !this.client.closed) return this.client;
    this.connecting ??= this.open(opts).finally(() => {
      this.connecting = undefined;
    });
    this.client = await this.connecting;
    return this.client;
  }

  async call(execute: string, args: JsonObject | undefined, opts: CallOptions): Promise<JsonValue> {
    return (await this.connected(opts)).call(execute, args, opts);
  }

  close(): void {
    this.client?.close();
    this.client = undefined;
  }
}
