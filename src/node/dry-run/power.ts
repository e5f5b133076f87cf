// A power back end that records requests instead of acting: for tests and for trying the agent
// on a workstation. Never powers anything off.
import type { Power, ShutdownMode, SuspendMode } from '../interfaces.js';

export interface PowerRecord {
  action: 'shutdown' | 'suspend';
  mode: ShutdownMode | SuspendMode;
  at: string;
}

export class DryRunPower implements Power {
  readonly name = 'dry-run';
  readonly requests: PowerRecord[] = [];

  constructor(private readonly onRequest?: (r: PowerRecord) => void) {}

  async shutdown(mode: ShutdownMode): Promise<void> {
    this.record({ action: 'shutdown', mode, at: new Date().toISOString() });
  }

  async suspend(mode: SuspendMode): Promise<void> {
    this.record({ action: 'suspend', mode, at: new Date().toISOString() });
  }

  private record(r: PowerRecord): void {
    this.requests.push(r);
    this.onRequest?.(r);
  }
}
