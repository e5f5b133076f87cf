// A Proxmox VE double: talks to a QGA socket exactly as qemu-server's PVE/QMPClient.pm does
// (read from its source): a new connection per command; one write holding guest-sync-delimited
// and the command, compact JSON with "arguments" always present and keys in arbitrary (Perl hash)
// order; no leading 0xFF; the reply accepted only when the buffer matches
// /\xff([^\n]+}\r?\n[^\n]+})\r?\n/ (so each reply must be one line ending in '}'); a stale sync id is
// skipped; for guest-shutdown/-suspend-* an EOF after the sync reply counts as success.
import net from 'node:net';

const ALLOW_CLOSE = new Set(['guest-shutdown', 'guest-suspend-ram', 'guest-suspend-disk', 'guest-suspend-hybrid']);

/** Proxmox's timeouts per command (seconds; facts/qga.md): a slower reply fails the call as it fails in Proxmox. */
export function pveTimeout(cmd: string): number {
  if (cmd === 'guest-ping') return 3;
  if (cmd === 'guest-fsfreeze-freeze') return 3600;
  if (cmd === 'guest-fsfreeze-thaw') return 180;
  if (cmd === 'guest-fstrim' || cmd === 'guest-shutdown') return 600;
  return 5;
}

function perlishJson(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(perlishJson).join(',')}]`;
  if (v && typeof v === 'object') {
    const entries = Object.entries(v).sort(() => Math.random() - 0.5);
    return `{${entries.map(([k, x]) => `${JSON.stringify(k)}:${perlishJson(x)}`).join(',')}}`;
  }
  return JSON.stringify(v);
}

let seq = 0;

export interface PveResult {
  /** The parsed command reply, or undefined when the agent closed after the sync reply (shutdown). */
  reply?: { return?: unknown; error?: { class: string; desc: string } };
  closedAfterSync: boolean;
  ms: number;
}

/** One Proxmox agent call: connect, one write, match the regex, close. */
export function pveCommand(
  socketPath: string,
  execute: string,
  args: Record<string, unknown> = {},
  timeoutS = pveTimeout(execute),
): Promise<PveResult> {
  seq++;
  const id = Number(`${process.pid}0${seq}`);
  const t0 = process.hrtime.bigint();
  return new Promise((resolve, reject) => {
    const sock = net.createConnection(socketPath);
    let buf = Buffer.alloc(0);
    const timer = setTimeout(() => {
      sock.destroy();
      reject(new Error(`got timeout (${timeoutS} s) waiting for ${execute}`));
    }, timeoutS * 1000);
    const done = (r: Omit<PveResult, 'ms'>) => {
      clearTimeout(timer);
      sock.destroy();
      resolve({ ...r, ms: Number(process.hrtime.bigint() - t0) / 1e6 });
    };
    sock.on('connect', () => {
      sock.write(`${perlishJson({ execute: 'guest-sync-delimited', arguments: { id } })}\n${perlishJson({ execute, arguments: args })}\n`);
    });
    sock.on('data', (chunk) => {
      buf = Buffer.concat([buf, chunk]);
      const text = buf.toString('latin1');
      const m = /\xff([^\n]+}\r?\n[^\n]+})\r?\n/s.exec(text);
      if (!m) return;
      const [syncLine, replyLine] = (m[1] as string).split('\n') as [string, string];
      const sid = JSON.parse(syncLine).return as number;
      if (sid < id) {
        buf = buf.subarray(m.index + m[0].length);
        return;
      }
      if (sid !== id) {
        clearTimeout(timer);
        sock.destroy();
        reject(new Error(`got wrong command id ${sid} (expected ${id})`));
        return;
      }
      done({ reply: JSON.parse(Buffer.from(replyLine, 'latin1').toString('utf8')), closedAfterSync: false });
    });
    sock.on('close', () => {
      const text = buf.toString('latin1');
      if (ALLOW_CLOSE.has(execute) && /\xff[^\n]+}\r?\n/s.test(text)) return done({ closedAfterSync: true });
      clearTimeout(timer);
      reject(new Error('client closed connection'));
    });
    sock.on('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
  });
}
