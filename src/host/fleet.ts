// The same operation over many VMs: a bounded pool of workers (never more than `concurrency`
// connections at once), results in input order, one failure never stops the others.
import type { AgentConnection } from './connection.js';
import type { Connector } from './connectors/index.js';

export interface FleetResult<T> {
  address: string;
  ok: boolean;
  value?: T;
  error?: Error;
  ms: number;
}

export interface FleetProgress {
  total: number;
  done: number;
  failed: number;
  running: number;
}

export interface FleetOptions {
  concurrency: number;
  onProgress?: (p: FleetProgress) => void;
}

/** Runs `fn` for each address with at most `concurrency` at a time; each connection is closed after its run. */
export async function runFleet<T>(
  connector: Connector,
  addresses: readonly string[],
  fn: (conn: AgentConnection) => Promise<T>,
  opts: FleetOptions,
): Promise<FleetResult<T>[]> {
  const results: FleetResult<T>[] = new Array(addresses.length);
  const p: FleetProgress = { total: addresses.length, done: 0, failed: 0, running: 0 };
  let next = 0;
  const worker = async () => {
    for (;;) {
      const i = next++;
      if (i >= addresses.length) return;
      const address = addresses[i] as string;
      p.running++;
      opts.onProgress?.({ ...p });
      const t0 = performance.now();
      let conn: AgentConnection | undefined;
      try {
        conn = connector.connect(address);
        const value = await fn(conn);
        results[i] = { address, ok: true, value, ms: performance.now() - t0 };
      } catch (err) {
        results[i] = { address, ok: false, error: err as Error, ms: performance.now() - t0 };
        p.failed++;
      } finally {
        conn?.close();
        p.running--;
        p.done++;
        opts.onProgress?.({ ...p });
      }
    }
  };
  const n = Math.max(1, Math.min(opts.concurrency, addresses.length));
  await Promise.all(Array.from({ length: n }, worker));
  return results;
}
