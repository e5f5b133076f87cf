// A malicious guest agent on a unix socket, for attacking the host CLI: it speaks enough QGA for the
// CLI to talk to it (sync, info) and answers every other command the way a test script says —
// escape sequences in names, kubeconfigs with exec plugins, files that never end, replies larger than
// asked for. It reads requests with its own small scanner and writes replies by hand, so it shares
// no codec with the code under attack.
import net from 'node:net';
import path from 'node:path';
import { makeTempDir } from '../peer/harness.js';

type Args = Record<string, unknown>;

/** What a handler can send back for one request. */
export interface Replier {
  readonly sock: net.Socket;
  /** {"return": value}, JSON.stringify'd. */
  ok(value: unknown): void;
  error(desc: string, cls?: string): void;
  /** Bytes as they are. */
  raw(bytes: string | Buffer): void;
  /**
   * {"return": {...fields, key: "<base64 of `bytes` bytes of filler>"}} written in pieces as the socket
   * drains, stopping early when the peer goes away. Resolves with the payload bytes written.
   */
  streamBase64(fields: Record<string, unknown>, key: string, bytes: number): Promise<number>;
}

export type Handler = (args: Args, reply: Replier) => void | Promise<void>;

export interface HostileGuest {
  readonly socket: string;
  readonly address: string;
  /** Every request received, in order. */
  readonly requests: { execute: string; arguments?: Args }[];
  stop(): Promise<void>;
}

/** Splits complete JSON objects off the front of `buf` (brace depth outside strings); returns the rest. */
function takeObjects(buf: string, out: string[]): string {
  let depth = 0;
  let inString = false;
  let escaped = false;
  let start = -1;
  let consumed = 0;
  for (let i = 0; i < buf.length; i++) {
    const c = buf[i];
    if (inString) {
      if (escaped) escaped = false;
      else if (c === '\\') escaped = true;
      else if (c === '"') inString = false;
      continue;
    }
    if (c === '"') inString = true;
    else if (c === '{') {
      if (depth++ === 0) start = i;
    } else if (c === '}' && depth > 0 && --depth === 0) {
      out.push(buf.slice(start, i + 1));
      consumed = i + 1;
    }
  }
  return depth === 0 ? '' : buf.slice(consumed);
}

const FILLER = Buffer.alloc(3 << 20, 'QUFB'); // base64 text of repeated "AAA", 3 MiB a piece

function replier(sock: net.Socket): Replier {
  const write = (b: string | Buffer) => {
    if (!sock.destroyed) sock.write(b);
  };
  return {
    sock,
    ok: (value) => write(`${JSON.stringify({ return: value })}\n`),
    error: (desc, cls = 'GenericError') => write(`${JSON.stringify({ error: { class: cls, desc } })}\n`),
    raw: write,
    async streamBase64(fields, key, bytes) {
      const head = JSON.stringify({ return: { ...fields, [key]: '' } });
      // Everything up to the opening quote of the payload string, then the payload, then the rest.
      const cut = head.lastIndexOf(`"${key}":""`) + key.length + 4;
      write(head.slice(0, cut));
      // Whole groups of "QUFB" ("AAA"), then the base64 of the last one or two bytes: exactly `bytes` bytes.
      let sent = 0;
      const chars = Math.floor(bytes / 3) * 4;
      while (sent < chars && !sock.destroyed) {
        const piece = FILLER.subarray(0, Math.min(FILLER.length, chars - sent));
        sent += piece.length;
        if (!sock.write(piece))
          await new Promise<void>((r) => {
            const done = () => {
              sock.off('drain', done);
              sock.off('close', done);
              r();
            };
            sock.on('drain', done);
            sock.on('close', done);
          });
      }
      const tail = ['', 'QQ==', 'QUE='][bytes % 3] as string;
      write(tail);
      write(`${head.slice(cut)}\n`);
      return sock.destroyed ? (sent / 4) * 3 : bytes;
    },
  };
}

/** Starts the guest; handlers override the defaults (guest-sync-delimited, guest-sync, guest-ping, guest-info). */
export async function startHostileGuest(handlers: Record<string, Handler>, opts: { version?: string } = {}): Promise<HostileGuest> {
  const socket = path.join(makeTempDir('guestlink-hostile-'), 'qga.sock');
  const requests: HostileGuest['requests'] = [];
  const defaults: Record<string, Handler> = {
    'guest-sync-delimited': (a, r) => r.raw(Buffer.concat([Buffer.from([0xff]), Buffer.from(`{"return": ${Number(a.id)}}\n`)])),
    'guest-sync': (a, r) => r.raw(`{"return": ${Number(a.id)}}\n`),
    'guest-ping': (_a, r) => r.ok({}),
    'guest-info': (_a, r) =>
      r.ok({
        version: opts.version ?? '9.9.9',
        supported_commands: Object.keys({ ...defaults, ...handlers }).map((name) => ({ name, enabled: true, 'success-response': true })),
      }),
  };
  const table = { ...defaults, ...handlers };
  const sockets = new Set<net.Socket>();
  const server = net.createServer((sock) => {
    sockets.add(sock);
    sock.on('close', () => sockets.delete(sock));
    sock.on('error', () => {});
    let buf = '';
    let queue = Promise.resolve();
    sock.on('data', (d) => {
      const found: string[] = [];
      buf = takeObjects(buf + d.toString('latin1').replace(/\xff/g, ''), found);
      for (const text of found) {
        const req = JSON.parse(text) as { execute: string; arguments?: Args };
        requests.push(req);
        // One at a time, in order, as agents answer.
        queue = queue.then(async () => {
          const h = table[req.execute];
          const r = replier(sock);
          if (h) await h(req.arguments ?? {}, r);
          else r.error(`The command ${req.execute} has not been found`, 'CommandNotFound');
        });
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(socket, resolve));
  return {
    socket,
    address: `unix:${socket}`,
    requests,
    stop: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}

/**
 * guest-file-* handlers serving one file: `content` (read at each open), or `stream` bytes of filler.
 * `size` is what guest-file-seek claims: the real size (default), a number, or 'none' (seek fails).
 * A greedy guest ignores the count asked for and sends the rest of the file in one reply.
 */
export function fileHandlers(opts: { content?: Buffer | (() => Buffer); stream?: number; size?: number | 'none'; greedy?: boolean }) {
  let pos = 0;
  let content: Buffer | undefined;
  let total = 0;
  const handlers: Record<string, Handler> = {
    'guest-file-open': (_a, r) => {
      pos = 0;
      content = typeof opts.content === 'function' ? opts.content() : opts.content;
      total = content?.length ?? opts.stream ?? 0;
      r.ok(1);
    },
    'guest-file-seek': (a, r) => {
      if (opts.size === 'none') return r.error('seek is not supported on this file');
      r.ok({ position: a.whence === 'end' ? (opts.size ?? total) : 0, eof: false });
    },
    'guest-file-read': async (a, r) => {
      const count = Number(a.count ?? 4096);
      const n = opts.greedy ? total - pos : Math.min(count, total - pos);
      if (content) {
        r.ok({ count: n, 'buf-b64': content.subarray(pos, pos + n).toString('base64'), eof: pos + n >= total });
        pos += n;
      } else pos += await r.streamBase64({ count: n, eof: pos + n >= total }, 'buf-b64', n);
    },
    'guest-file-close': (_a, r) => r.ok({}),
  };
  return handlers;
}
