// PLACEHOLDER while a helper writes this transport; replaced before commit.
import type { ConnectionHandlers, Transport } from './types.js';

export class VsockListenTransport implements Transport {
  readonly name = 'vsock-listen';
  constructor(
    readonly path: string,
    _opts?: unknown,
  ) {}
  async start(_h: ConnectionHandlers): Promise<void> {
    throw new Error('vsock-listen transport not implemented yet');
  }
  async close(): Promise<void> {}
}
