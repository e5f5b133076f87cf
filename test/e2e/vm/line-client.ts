// A unix-socket client that reads newline-terminated lines: the QGA chardev, QMP and the probe port all speak lines.
import net from 'node:net';

/** Reads lines (without the '\n') from a unix socket, with a timeout per read; tests talk to sockets through it. */
export class LineClient {
  private buf = Buffer.alloc(0);
  private readonly lines: Buffer[] = [];
  private waiter: (() => void) | undefined;
  private ended = false;

  private constructor(readonly socket: net.Socket) {
    socket.on('data', (chunk) => {
      this.buf = this.buf.length === 0 ? chunk : Buffer.concat([this.buf, chunk]);
      for (let nl = this.buf.indexOf(0x0a); nl >= 0; nl = this.buf.indexOf(0x0a)) {
        this.lines.push(this.buf.subarray(0, nl));
        this.buf = this.buf.subarray(nl + 1);
      }
      this.wake();
    });
    socket.on('close', () => {
      this.ended = true;
      this.wake();
    });
    socket.on('error', () => {});
  }

  /** Connects to a unix socket path. */
  static connect(path: string, timeoutMs = 5000): Promise<LineClient> {
    return new Promise((resolve, reject) => {
      const sock = net.connect(path);
      const timer = setTimeout(() => {
        sock.destroy();
        reject(new Error(`connect ${path}: timed out`));
      }, timeoutMs);
      sock.once('error', (err) => {
        clearTimeout(timer);
        reject(err);
      });
      sock.once('connect', () => {
        clearTimeout(timer);
        resolve(new LineClient(sock));
      });
    });
  }

  private wake(): void {
    const w = this.waiter;
    this.waiter = undefined;
    w?.();
  }

  write(data: string | Buffer): void {
    this.socket.write(data);
  }

  /** The next line, or an error after timeoutMs or when the peer closed. */
  async readLine(timeoutMs = 5000): Promise<Buffer> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const line = this.lines.shift();
      if (line) return line;
      if (this.ended) throw new Error('connection closed');
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`no reply within ${timeoutMs} ms`);
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, left);
        this.waiter = () => {
          clearTimeout(t);
          resolve();
        };
      });
    }
  }

  /** Lines received but not read yet (stale replies, for example). */
  pending(): number {
    return this.lines.length;
  }

  close(): Promise<void> {
    return new Promise((resolve) => {
      if (this.socket.destroyed) return resolve();
      this.socket.once('close', () => resolve());
      this.socket.destroy();
    });
  }
}
