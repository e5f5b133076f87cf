// The one QGA test client: tests that talk QGA to an agent (guestlink or the real qemu-ga) on a unix socket
// do it through this module (directly, or through test/peer/harness.ts and test/talos/helpers.ts, which
// re-export it), so there is one way to frame, collect and time out, not one per file. Two levels:
//   - raw bytes, for what must be compared byte for byte or is deliberately malformed: `RawClient` (exact
//     bytes both ways, `collect` until N replies or a quiet period), `exchange` (one conversation on a fresh
//     connection), `exchangeUntilSync` (ends with a guest-sync, so no waiting for silence), `replyLine`,
//     `pingFresh`, `connect` (a bare socket for floods);
//   - typed calls, for what is asserted as values: `qga` returns the result or the QGA error object, through
//     the host library's own client (src/host/client.ts), so the tests exercise the code the CLI uses.
// It frames nothing itself beyond counting newlines: the raw level leaves the bytes to the test, the typed
// level uses the protocol's reader. Not here, on purpose: the doubles of other clients (Proxmox's
// QMPClient in test/doubles/pve-client.ts, virsh in test/host/virsh-double.ts), which must talk exactly as
// those programs do, and the management endpoint's TLS client (TlsQga in test/identity/harness.ts), which
// presents client certificates.
import net from 'node:net';
import { QgaClient, QgaRemoteError } from '../src/host/client.js';
import type { JsonObject, JsonValue } from '../src/protocol/qga/json-value.js';

/** A piece of a raw exchange: bytes to write, or a pause in milliseconds between writes. */
export type Chunk = string | Uint8Array | { pause: number };

export interface CollectOptions {
  /** Stop once this many replies (newline-terminated lines) have arrived. */
  replies?: number;
  /** Stop after this long without any new byte (default 300 ms; with `replies`, 5 s of silence fails nothing, just ends). */
  quietMs?: number;
  /** Hard limit for the whole exchange (default 10 s). */
  timeoutMs?: number;
  /** Keep the connection open after collecting (the caller then owns `client`); default false. */
  keepOpen?: boolean;
}

/** A QGA reply as plain data: the result, or the error object (so an assertion shows both). */
export type Reply = { return: JsonValue } | { error: { class: string; desc: string } };

/** One QGA call on a fresh connection; guest-shutdown resolves after `timeoutMs` of silence. */
export async function qga(socket: string, execute: string, args?: JsonObject, timeoutMs = 5000): Promise<Reply> {
  const c = await QgaClient.connectUnix(socket);
  try {
    return { return: await c.call(execute, args, { timeoutMs }) };
  } catch (e) {
    if (e instanceof QgaRemoteError) return { error: { class: e.errorClass, desc: e.desc } };
    throw e;
  } finally {
    c.close();
  }
}

/**
 * One request on a fresh connection: the bytes up to and including the first newline's chunk, as text.
 * Scans only new bytes for the newline (replies reach 22 MB); rejects after `timeoutMs` naming `who`.
 */
export function replyLine(socket: string, req: unknown, who = 'agent', timeoutMs = 20_000): Promise<string> {
  return new Promise((resolve, reject) => {
    const sock = net.connect(socket);
    const chunks: Buffer[] = [];
    const timer = setTimeout(() => {
      sock.destroy();
      reject(new Error(`${who}: no reply to ${JSON.stringify(req).slice(0, 200)}`));
    }, timeoutMs);
    sock.on('data', (d: Buffer) => {
      chunks.push(d);
      if (d.includes(0x0a)) {
        clearTimeout(timer);
        sock.destroy();
        resolve(Buffer.concat(chunks).toString('utf8'));
      }
    });
    sock.on('error', reject);
    sock.write(`${JSON.stringify(req)}\n`);
  });
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** A bare connected socket, for tests that write and read at their own pace (floods, hosts that never read). */
export function connect(socket: string): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const s = net.createConnection(socket);
    s.once('connect', () => resolve(s));
    s.once('error', reject);
  });
}

/** guest-ping on a new connection: the reply line (rejects after 20 s: the agent is stuck or gone). */
export async function pingFresh(socket: string): Promise<string> {
  const s = await connect(socket);
  try {
    return await new Promise<string>((resolve, reject) => {
      let got = '';
      const timer = setTimeout(() => reject(new Error(`no reply to guest-ping within 20 s (got ${JSON.stringify(got)})`)), 20_000);
      s.on('data', (d: Buffer) => {
        got += d.toString('latin1');
        const nl = got.indexOf('\n');
        if (nl >= 0) {
          clearTimeout(timer);
          resolve(got.slice(0, nl + 1));
        }
      });
      s.write('{"execute":"guest-ping"}\n');
    });
  } finally {
    s.destroy();
  }
}

/** Counts complete replies (lines ending in "\n") in collected bytes. */
export function countReplies(buf: Uint8Array): number {
  let n = 0;
  for (const b of buf) if (b === 0x0a) n++;
  return n;
}

/** Splits collected bytes into reply lines (each still ending in "\n", 0xFF prefix kept). */
export function splitReplies(buf: Buffer): Buffer[] {
  const out: Buffer[] = [];
  let start = 0;
  for (let i = 0; i < buf.length; i++) {
    if (buf[i] === 0x0a) {
      out.push(buf.subarray(start, i + 1));
      start = i + 1;
    }
  }
  if (start < buf.length) out.push(buf.subarray(start));
  return out;
}

/** A raw client: exact bytes out, exact bytes in, no framing or decoding of its own. */
export class RawClient {
  private readonly chunks: Buffer[] = [];
  private size = 0;
  private waiters: (() => void)[] = [];
  private ended = false;
  /** Set when the peer closed the connection. */
  closedByPeer = false;

  private constructor(readonly sock: net.Socket) {
    sock.on('data', (d: Buffer) => {
      this.chunks.push(d);
      this.size += d.length;
      this.wake();
    });
    sock.on('close', () => {
      this.ended = true;
      this.closedByPeer = true;
      this.wake();
    });
    sock.on('error', () => {});
  }

  /** Connects to a unix socket. */
  static connect(socket: string): Promise<RawClient> {
    return new Promise((resolve, reject) => {
      const s = net.connect(socket);
      s.once('connect', () => {
        s.off('error', reject);
        resolve(new RawClient(s));
      });
      s.once('error', reject);
    });
  }

  private wake(): void {
    const w = this.waiters;
    this.waiters = [];
    for (const f of w) f();
  }

  /** Writes bytes (a string is sent as UTF-8) and waits until they are handed to the OS. */
  write(data: string | Uint8Array): Promise<void> {
    return new Promise((resolve, reject) => {
      this.sock.write(typeof data === 'string' ? Buffer.from(data, 'utf8') : data, (err) => (err ? reject(err) : resolve()));
    });
  }

  /** Writes chunks in order, pausing where asked. */
  async writeAll(chunks: Chunk[]): Promise<void> {
    for (const c of chunks) {
      if (typeof c === 'object' && 'pause' in c) await sleep(c.pause);
      else await this.write(c);
    }
  }

  /** Everything received so far. */
  received(): Buffer {
    return Buffer.concat(this.chunks, this.size);
  }

  /**
   * Waits until `replies` newline-terminated replies have arrived, or no byte arrived for `quietMs`,
   * or `timeoutMs` passed, or the peer closed; returns all bytes received and clears the buffer.
   */
  async collect(opts: CollectOptions = {}): Promise<Buffer> {
    const quietMs = opts.quietMs ?? (opts.replies !== undefined ? 5000 : 300);
    const deadline = Date.now() + (opts.timeoutMs ?? 10_000);
    let lastSize = this.size;
    let lastChange = Date.now();
    for (;;) {
      if (opts.replies !== undefined && countReplies(this.received()) >= opts.replies) break;
      if (this.ended) break;
      const now = Date.now();
      if (this.size !== lastSize) {
        lastSize = this.size;
        lastChange = now;
      }
      const wait = Math.min(lastChange + quietMs, deadline) - now;
      if (wait <= 0) break;
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, wait);
        this.waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
    const out = this.received();
    this.chunks.length = 0;
    this.size = 0;
    return out;
  }

  /** Closes our side and waits for the socket to be gone. */
  async close(): Promise<void> {
    if (this.sock.destroyed) return;
    await new Promise<void>((resolve) => {
      this.sock.once('close', () => resolve());
      this.sock.end();
      setTimeout(() => this.sock.destroy(), 500).unref();
    });
  }
}

/**
 * One conversation on a fresh connection: write the chunks (pauses between), collect the replies,
 * close. Returns the exact bytes received.
 */
export async function exchange(socket: string, chunks: Chunk[], opts: CollectOptions = {}): Promise<Buffer> {
  const c = await RawClient.connect(socket);
  try {
    await c.writeAll(chunks);
    return await c.collect(opts);
  } finally {
    if (!opts.keepOpen) await c.close();
  }
}

/**
 * Sends the chunks, then 0xFF, a newline and a guest-sync with a fresh id, and collects everything
 * up to and including that sync's reply: a conversation whose end is known without waiting for
 * silence (fast for fuzzing). The stray-byte reply to the 0xFF is part of the returned bytes.
 */
export async function exchangeUntilSync(socket: string, chunks: Chunk[], timeoutMs = 5000): Promise<Buffer> {
  const id = 1 + Math.floor(Math.random() * 1e9);
  const c = await RawClient.connect(socket);
  try {
    await c.writeAll(chunks);
    await c.write(Buffer.concat([Buffer.from([0xff]), Buffer.from(`\n{"execute":"guest-sync","arguments":{"id":${id}}}\n`)]));
    const want = Buffer.from(`{"return": ${id}}\n`);
    let got = Buffer.alloc(0);
    const deadline = Date.now() + timeoutMs;
    while (!(got.length >= want.length && got.subarray(got.length - want.length).equals(want))) {
      if (Date.now() > deadline || c.closedByPeer) throw new Error(`no reply to the closing guest-sync; got ${showBytes(got)}`);
      got = Buffer.concat([got, await c.collect({ replies: 1, quietMs: timeoutMs, timeoutMs: deadline - Date.now() })]);
    }
    return got.subarray(0, got.length - want.length);
  } finally {
    await c.close();
  }
}

/** Shows bytes readably in assertion messages: printable ASCII as is, others as \xNN. */
export function showBytes(b: Uint8Array): string {
  let s = '';
  for (const c of b) s += c >= 0x20 && c < 0x7f ? String.fromCharCode(c) : c === 0x0a ? '\\n' : `\\x${c.toString(16).padStart(2, '0')}`;
  return s;
}
