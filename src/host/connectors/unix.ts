// unix:/path/to/qga.sock — a QEMU chardev socket (server=on) or an agent listening on a unix socket.
// One connection per CLI run, opened on first use and reopened (with a fresh sync) when the agent
// or QEMU dropped it; a call that was in flight is never repeated, since it may have run.
import path from 'node:path';
import type { JsonObject, JsonValue } from '../../protocol/qga/json-value.js';
import { QgaClient } from '../client.js';
import type { AgentConnection, CallOptions } from '../connection.js';
import { LazyClient } from './lazy-client.js';

// Reads: 4 MiB per guest-file-read (~5.6 MB of base64 per reply, far below the 64 MiB JSON limit).
// Writes: 1 MiB per guest-file-write, because guestlink agents up to 0.1.0 fail on requests with more
// than ~3 MB of base64 ("Maximum call stack size exceeded" in their base64 check); measured here, the
// smaller writes cost little (see docs/cli.md).
const READ_CHUNK = 4 << 20;
const WRITE_CHUNK = 1 << 20;
/** Replies on one socket come in request order, so writes may overlap (virsh runs and HTTP requests may not). */
const PIPELINE = 3;

export class UnixConnection implements AgentConnection {
  readonly limits = { readChunk: READ_CHUNK, writeChunk: WRITE_CHUNK, pipeline: PIPELINE };
  readonly name: string;
  private readonly conn = new LazyClient((opts) => QgaClient.connectUnix(this.socketPath, opts));

  constructor(
    readonly address: string,
    readonly socketPath: string,
  ) {
    this.name = path.basename(socketPath).replace(/\.(sock|socket)$/, '');
  }

  async call(execute: string, args?: JsonObject, opts: CallOptions = {}): Promise<JsonValue> {
    return this.conn.call(execute, args, opts);
  }

  close(): void {
    this.conn.close();
  }
}
