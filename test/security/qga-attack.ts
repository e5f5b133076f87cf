// Helpers for the attacks on the QGA channel (test/security/qga-*.test.ts): the agent as a real process on a
// unix socket, its memory from /proc, a hostile client that writes with backpressure while reading what comes
// back, and the guest-ping on a fresh connection that every attack must leave working.
import { readFileSync } from 'node:fs';
import type net from 'node:net';
import { drained } from '../../src/transport/types.js';
import { makeTempDir, type Peer, startGuestlink } from '../peer/harness.js';
import { connect, pingFresh } from '../qga-client.js';

// The bare socket and the fresh-connection ping come from the one QGA test client.
export { connect, pingFresh } from '../qga-client.js';

/**
 * The memory the QGA channel may add to the agent, in MiB above its idle RSS (docs/security.md, "The QGA
 * channel"): at the default --max-request-bytes (64 MiB), and at the 16 MiB the DaemonSet passes.
 */
export const CEILING_MIB = 224;
export const DAEMONSET_CEILING_MIB = 64;
export const DAEMONSET_ARGS = ['--max-request-bytes', String(16 << 20)];

/** VmRSS and VmHWM of a process, in KiB. */
export function memory(pid: number): { rssKiB: number; hwmKiB: number } {
  const text = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kib = (key: string) => Number(new RegExp(`^${key}:\\s+(\\d+) kB`, 'm').exec(text)?.[1] ?? Number.NaN);
  return { rssKiB: kib('VmRSS'), hwmKiB: kib('VmHWM') };
}

/** An agent of its own for one attack (the high-water mark is per process), and its idle RSS. */
async function attackTarget(args: readonly string[] = []): Promise<{ agent: Peer; idleKiB: number }> {
  const agent = await startGuestlink(makeTempDir('guestlink-attack-'), args);
  // One request first, so the idle figure includes what the first request loads.
  await pingFresh(agent.socket);
  return { agent, idleKiB: memory(agent.pid).rssKiB };
}

/** Runs `fn` against an agent of its own (attackTarget), stopping the agent by its PID afterwards. */
export async function withAgent<T>(args: readonly string[], fn: (agent: Peer, idleKiB: number) => Promise<T>): Promise<T> {
  const { agent, idleKiB } = await attackTarget(args);
  try {
    return await fn(agent, idleKiB);
  } finally {
    await agent.stop();
  }
}

/** How far the attack took the agent's peak above its idle RSS, in MiB (with a line for the test's diagnostics). */
export function growthMiB(agent: Peer, idleKiB: number): { mib: number; note: string } {
  const { hwmKiB } = memory(agent.pid);
  const mib = (hwmKiB - idleKiB) / 1024;
  return { mib, note: `idle ${Math.round(idleKiB / 1024)} MiB, peak ${Math.round(hwmKiB / 1024)} MiB: +${mib.toFixed(1)} MiB` };
}

/** A hostile client: writes with backpressure, reads what comes back, keeps the first lines. */
export class Attacker {
  private text = '';
  lines: string[] = [];
  replyBytes = 0;
  closedByAgent = false;
  private waiters: (() => void)[] = [];

  private constructor(readonly sock: net.Socket) {
    sock.on('data', (d: Buffer) => {
      this.replyBytes += d.length;
      if (this.lines.length >= 16) return;
      this.text += d.toString('latin1');
      let nl = this.text.indexOf('\n');
      while (nl >= 0 && this.lines.length < 16) {
        this.lines.push(this.text.slice(0, nl + 1));
        this.text = this.text.slice(nl + 1);
        nl = this.text.indexOf('\n');
      }
      this.wake();
    });
    sock.on('error', () => {});
    sock.on('close', () => {
      this.closedByAgent = true;
      this.wake();
    });
  }

  static async open(socket: string): Promise<Attacker> {
    return new Attacker(await connect(socket));
  }

  private wake(): void {
    for (const w of this.waiters.splice(0)) w();
  }

  /** Writes the bytes in 64 KiB pieces, waiting for the socket to drain; stops early if the agent hangs up. */
  async send(...parts: (string | Buffer)[]): Promise<void> {
    for (const part of parts) {
      const buf = typeof part === 'string' ? Buffer.from(part, 'latin1') : part;
      for (let i = 0; i < buf.length && !this.sock.destroyed; i += 64 << 10) {
        if (!this.sock.write(buf.subarray(i, i + (64 << 10)))) await drained(this.sock);
      }
    }
  }

  /** Resolves once `n` reply lines have come (rejects after 60 s with what came). */
  async replies(n: number): Promise<string[]> {
    const deadline = Date.now() + 60_000;
    while (this.lines.length < n) {
      if (this.closedByAgent) throw new Error(`the agent hung up after ${this.lines.length} replies: ${this.lines.join('')}`);
      if (Date.now() > deadline) throw new Error(`${this.lines.length} of ${n} replies within 60 s: ${this.lines.join('')}`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, 1000);
        this.waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
    return this.lines.slice(0, n);
  }

  close(): void {
    this.sock.destroy();
  }
}

/** `{"error": {"class": "GenericError", "desc": ...}}` as a reply line, for comparisons. */
export const genericErrorLine = (desc: string) => `{"error": {"class": "GenericError", "desc": ${JSON.stringify(desc)}}}\n`;
