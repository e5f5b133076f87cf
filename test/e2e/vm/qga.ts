// Host side of QGA over the VM's chardev socket, the way libvirt and Proxmox use it: sync first, then commands.
import { LineClient } from './line-client.js';

/** One QGA reply, parsed (test ids and values stay below 2^53). */
export type QgaReply = { return?: unknown; error?: { class: string; desc: string }; id?: unknown };

let nextSyncId = Math.floor(Math.random() * 1e9);

/** A host connection to the agent: the e2e tests' stand-in for libvirt/Proxmox. */
export class QgaConnection {
  private constructor(readonly lines: LineClient) {}

  static async connect(socketPath: string, timeoutMs = 5000): Promise<QgaConnection> {
    return new QgaConnection(await LineClient.connect(socketPath, timeoutMs));
  }

  /**
   * guest-sync-delimited with a fresh id, preceded by 0xFF (parser reset); replies to older requests and
   * the parse-error reply to the 0xFF are skipped until the matching id arrives.
   */
  async syncDelimited(timeoutMs = 5000): Promise<number> {
    const id = nextSyncId++;
    this.lines.write(Buffer.concat([Buffer.from([0xff]), Buffer.from(`{"execute":"guest-sync-delimited","arguments":{"id":${id}}}\n`)]));
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const raw = await this.lines.readLine(Math.max(1, deadline - Date.now()));
      const start = raw.lastIndexOf(0xff) + 1;
      try {
        const r = JSON.parse(raw.subarray(start).toString('utf8')) as QgaReply;
        if (r.return === id) return id;
      } catch {}
    }
  }

  /** Sends one command and returns its reply (the next line). */
  async execute(command: string, args?: Record<string, unknown>, timeoutMs = 10000): Promise<QgaReply> {
    const req = args ? { execute: command, arguments: args } : { execute: command };
    this.lines.write(`${JSON.stringify(req)}\n`);
    const raw = await this.lines.readLine(timeoutMs);
    return JSON.parse(raw.toString('utf8')) as QgaReply;
  }

  /** Like execute, but throws on an error reply and returns the `return` member. */
  async call<T = unknown>(command: string, args?: Record<string, unknown>, timeoutMs = 10000): Promise<T> {
    const r = await this.execute(command, args, timeoutMs);
    if (r.error) throw new Error(`${command}: ${r.error.class}: ${r.error.desc}`);
    return r.return as T;
  }

  close(): Promise<void> {
    return this.lines.close();
  }
}

/** Connects, then repeats guest-sync-delimited every second until the agent answers; returns the connected client. */
export async function waitForAgent(socketPath: string, timeoutMs: number, isAlive: () => boolean = () => true): Promise<QgaConnection> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  let conn: QgaConnection | undefined;
  while (Date.now() < deadline) {
    if (!isAlive()) {
      await conn?.close();
      throw new Error('QEMU exited before the agent answered');
    }
    try {
      conn ??= await QgaConnection.connect(socketPath, 2000);
      await conn.syncDelimited(Math.min(1000, Math.max(1, deadline - Date.now())));
      return conn;
    } catch (err) {
      last = err;
      if (String(err).includes('closed') || conn === undefined) {
        await conn?.close();
        conn = undefined;
        await new Promise((r) => setTimeout(r, 100));
      }
    }
  }
  await conn?.close();
  throw new Error(`the agent did not answer guest-sync-delimited within ${timeoutMs} ms: ${String(last)}`);
}
