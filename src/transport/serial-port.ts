// PLACEHOLDER while a helper writes this transport; replaced before commit.
import type { ConnectionHandlers, Transport } from './types.js';

export class SerialPortTransport implements Transport {
  readonly name = 'serial-port';
  constructor(
    readonly path: string,
    _opts?: unknown,
  ) {}
  async start(_h: ConnectionHandlers): Promise<void> {
    throw new Error('serial-port transport not implemented yet');
  }
  async close(): Promise<void> {}
}
