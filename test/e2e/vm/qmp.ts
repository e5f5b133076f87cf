// A minimal QMP client: enough to quit QEMU, query its state and wait for events such as SHUTDOWN.
import { LineClient } from './line-client.js';

/** A QMP event as QEMU sends it. */
export type QmpEvent = { event: string; data?: unknown; timestamp?: unknown };

/** One negotiated QMP session; events that arrive while waiting for replies are kept for waitEvent(). */
export class QmpClient {
  readonly events: QmpEvent[] = [];
  private constructor(private readonly lines: LineClient) {}

  static async connect(socketPath: string, timeoutMs = 5000): Promise<QmpClient> {
    const lines = await LineClient.connect(socketPath, timeoutMs);
    const c = new QmpClient(lines);
    await lines.readLine(timeoutMs); // greeting
    await c.execute('qmp_capabilities');
    return c;
  }

  private async next(timeoutMs: number): Promise<Record<string, unknown>> {
    return JSON.parse((await this.lines.readLine(timeoutMs)).toString('utf8')) as Record<string, unknown>;
  }

  /** Runs a command; throws on an error reply. */
  async execute(command: string, args?: Record<string, unknown>, timeoutMs = 5000): Promise<unknown> {
    this.lines.write(`${JSON.stringify(args ? { execute: command, arguments: args } : { execute: command })}\n`);
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const m = await this.next(Math.max(1, deadline - Date.now()));
      if ('event' in m) this.events.push(m as QmpEvent);
      else if ('error' in m) throw new Error(`QMP ${command}: ${JSON.stringify(m.error)}`);
      else if ('return' in m) return m.return;
    }
  }

  /** Resolves with the first event of that name (already received or arriving before the timeout). */
  async waitEvent(name: string, timeoutMs: number): Promise<QmpEvent> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const seen = this.events.find((e) => e.event === name);
      if (seen) return seen;
      const m = await this.next(Math.max(1, deadline - Date.now()));
      if ('event' in m) this.events.push(m as QmpEvent);
    }
  }

  close(): Promise<void> {
    return this.lines.close();
  }
}
