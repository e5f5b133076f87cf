// serial-port: the virtio-serial port (/dev/virtio-ports/org.qemu.guest_agent.0) and the isa-serial tty
// (/dev/ttyS0), as qemu-ga -m virtio-serial / -m isa-serial.
//
// virtio-serial, how it behaves (Linux virtio_console, checked in the TCG VM of test/e2e/vm):
// - Node cannot stream it: net.Socket({fd}) and tty.ReadStream refuse a non-tty char device.
// - With no host attached, read() returns 0 at once and poll() reports POLLIN|POLLHUP, so every
//   readiness approach spins; a write blocks (or EAGAIN) until a host attaches (driver source:
//   will_write_block). Nothing signals the
//   attach except SIGIO or edge-triggered epoll, which Node does not expose.
// - With a host attached, a blocking read() sleeps in the kernel until data arrives or the host leaves
//   (then it returns 0).
// So: one blocking fd (O_RDWR|O_NOCTTY, never opened twice: the driver allows one opener), one
// fs.read in flight on the libuv pool at any time. While a host is attached that read is the wait:
// no CPU, no added latency. While none is, read() returns 0 at once and we sleep between reads with
// a short backoff (IDLE_POLL), which bounds the delay before the first reply after a (re)connect.
// Writes go one at a time through the pool (the driver takes at most 32 KiB per write) from a bounded
// queue; a connection's queued replies are dropped, with a log line, when its host is gone.
// Measured in the TCG VM (2 vCPUs; test/e2e/virtio-serial.test.ts), guest CPU from /proc/<pid>/stat:
//   qemu-ga 7.2 (sleeps 100 ms per read()=0): idle 0.7% CPU; first reply after a connect median 42 ms,
//     p90 94 ms, max 116 ms.
//   this transport (IDLE_POLL): idle 7.9% CPU (80 ticks in 10 s); silent host attached 0 ticks in 5 s;
//     first reply after back-to-back reconnects median 6 ms, p99 29 ms; after 2.5-3.5 s away median
//     27 ms, max 54 ms; 200 reconnect cycles: fds 21 -> 21.
//   Fixed 20 ms polling: 20% CPU, median 24 ms; fixed 50 ms: 7%, median 34 ms. TCG makes every wakeup
//   dear: a Node timer tick costs 1.4-2 ms of guest CPU, timer + pooled read 4.8-5.7 ms; on this
//   host natively ~220 us, so IDLE_POLL's 20 Hz is ~0.4% of a core on real hardware. A worker thread
//   sleeping in Atomics.wait costs 1.1-1.3 ms per poll in TCG but +12.5 MB RSS: not worth it.
// Caveat: while a silent host is attached (libvirt keeps the chardev open) our read sits in the pool,
// and process.exit() joins pool threads, so it waits until the host sends or leaves (seen in the VM).
// The agent must exit by re-raising the signal after close() (measured: gone in 0.4 s) or similar.
// The driver's "host closed" notice travels on the control queue and can arrive after the next host's
// first bytes; ending the conversation at once dropped that host's reply (1 in ~90 quick reconnects),
// hence HOST_GONE_CONFIRM_MS (100 ms: 1,400 cycles clean).
// isa-serial: a tty, so tty.ReadStream does real readiness (epoll) and there is no host attach/leave
// to see: one Connection per open. Raw mode comes from libuv (setRawMode: no echo, no canonical mode,
// no signals, no CR/LF input mapping, 8 bits); libuv keeps output post-processing (ONLCR), so when
// `stty` exists we also run `stty -F <path> -opost` (spawned, no shell) to match qemu-ga's cfmakeraw-like
// setup byte for byte; without it replies end in "\r\n", which hosts' line readers accept.
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import tty from 'node:tty';
import { debuglog } from 'node:util';
import { type Connection, type ConnectionHandlers, newConnectionId, type Transport } from './types.js';

/** The part of a pino logger the transport uses; the agent passes its own. */
export interface TransportLog {
  warn(obj: object, msg: string): void;
  info(obj: object, msg: string): void;
  debug(obj: object, msg: string): void;
}

const debug = debuglog('guestlink:serial');
/** Used when no logger is passed: warnings as JSON lines on stderr, debug through NODE_DEBUG=guestlink:serial. */
const fallbackLog: TransportLog = {
  warn: (obj, msg) => process.stderr.write(`${JSON.stringify({ level: 40, time: Date.now(), msg, ...obj })}\n`),
  info: (obj, msg) => debug('%s %j', msg, obj),
  debug: (obj, msg) => debug('%s %j', msg, obj),
};

export interface SerialPortOptions {
  kind: 'virtio-serial' | 'isa-serial';
  /** Keep trying to open the device every second while it is missing or failing (qemu-ga -r). */
  retry: boolean;
  log?: TransportLog;
  /** Replies queued but not yet written, per transport; beyond it new replies are dropped. Default 160 MiB (two maximal guest-file-read replies). */
  maxQueuedBytes?: number;
  /** Sleep between reads while no host is attached (virtio-serial); see IDLE_POLL. */
  idlePoll?: IdlePoll;
  /** Milliseconds between open attempts when retrying. Default 1000 (qemu-ga -r waits a second). */
  retryIntervalMs?: number;
}

/** How often to look for a host while none is attached: from minMs doubling to burstMaxMs for burstMs after the last host left, then maxMs. */
export interface IdlePoll {
  minMs: number;
  burstMaxMs: number;
  burstMs: number;
  maxMs: number;
}
/** Default idle polling (virtio-serial), chosen by the VM measurements above: hosts that reconnect soon (Proxmox opens a connection per batch) get ~5 ms, others ~25 ms. */
export const IDLE_POLL: IdlePoll = { minMs: 1, burstMaxMs: 8, burstMs: 2000, maxMs: 50 };
/** How long read() must keep returning 0 before a virtio-serial conversation counts as ended. */
export const HOST_GONE_CONFIRM_MS = 100;
const READ_SIZE = 64 << 10;
// The virtio_console driver copies at most 32 KiB per write(); bigger writes return short.
const WRITE_CHUNK = 32 << 10;

/** Opens a serial device and serves one host conversation at a time (qemu-ga -m virtio-serial / isa-serial). */
export class SerialPortTransport implements Transport {
  readonly name: string;
  private readonly log: TransportLog;
  private readonly port: VirtioPort | IsaPort;

  constructor(
    readonly path: string,
    private readonly opts: SerialPortOptions,
  ) {
    this.name = opts.kind;
    this.log = opts.log ?? fallbackLog;
    this.port = opts.kind === 'virtio-serial' ? new VirtioPort(path, opts, this.log) : new IsaPort(path, opts, this.log);
  }

  async start(h: ConnectionHandlers): Promise<void> {
    await this.port.start(h, this.opts.retry);
  }

  async close(): Promise<void> {
    await this.port.close();
  }
}

/** What can go wrong opening the device, worded like qemu-ga with a hint at the usual cause. */
export class SerialPortOpenError extends Error {
  readonly code = 'SERIAL_PORT_OPEN';
  constructor(path: string, cause: unknown) {
    const reason = cause instanceof Error ? cause.message : String(cause);
    const hint = /ENOENT/.test(reason)
      ? ' (does the VM have this port? virtio-serial needs a virtserialport named org.qemu.guest_agent.0; -r waits for it)'
      : /EBUSY/.test(reason)
        ? ' (another agent has the port open)'
        : '';
    super(`error opening channel '${path}': ${reason}${hint}`);
  }
}

interface QueuedWrite {
  conn: SerialConnection;
  data: Buffer;
  offset: number;
  resolve: () => void;
}

interface SerialConnection extends Connection {
  closed: boolean;
  /** When read() first returned 0 in a row of zeros (virtio-serial); undefined while the host is there. */
  goneSince?: number | undefined;
}

/** Shared by both kinds: the open/retry cycle and the current connection. */
abstract class PortBase {
  protected handlers: ConnectionHandlers | undefined;
  protected conn: SerialConnection | undefined;
  protected stopped = false;
  private retryTimer: NodeJS.Timeout | undefined;

  constructor(
    protected readonly path: string,
    protected readonly opts: SerialPortOptions,
    protected readonly log: TransportLog,
  ) {}

  protected abstract open(): Promise<void>;
  abstract close(): Promise<void>;

  async start(h: ConnectionHandlers, retry: boolean): Promise<void> {
    this.handlers = h;
    try {
      await this.open();
    } catch (err) {
      if (!retry) throw new SerialPortOpenError(this.path, err);
      this.log.warn({ path: this.path, err: String(err) }, 'cannot open the channel yet; retrying every second');
      this.scheduleReopen();
    }
  }

  /** After an open failure (retry mode) or a device error: try again later, quietly. */
  protected scheduleReopen(): void {
    if (this.stopped || this.retryTimer) return;
    this.retryTimer = setTimeout(() => {
      this.retryTimer = undefined;
      if (this.stopped) return;
      this.open().then(
        () => this.log.info({ path: this.path }, 'channel opened'),
        () => this.scheduleReopen(),
      );
    }, this.opts.retryIntervalMs ?? 1000);
  }

  protected stopRetry(): void {
    clearTimeout(this.retryTimer);
    this.retryTimer = undefined;
  }

  /** Ends the current conversation: handlers hear closed(conn); its unsent replies are dropped. */
  protected endConnection(reason: string): void {
    const conn = this.conn;
    if (!conn) return;
    this.conn = undefined;
    conn.closed = true;
    this.dropQueued(conn, reason);
    this.log.debug({ conn: conn.id, reason }, 'host conversation ended');
    this.handlers?.closed(conn);
  }

  protected dropQueued(_conn: SerialConnection, _reason: string): void {}
}

function openFd(path: string, flags: number): Promise<number> {
  return new Promise((resolve, reject) => fs.open(path, flags, (err, fd) => (err ? reject(err) : resolve(fd))));
}

function closeFd(fd: number): void {
  fs.close(fd, () => {});
}

/** virtio-serial: one blocking fd, one pooled read at a time, backoff while no host is attached. */
class VirtioPort extends PortBase {
  private fd: number | undefined;
  private readonly buf = Buffer.allocUnsafe(READ_SIZE);
  private idleTimer: NodeJS.Timeout | undefined;
  private idleDelay = 0;
  private idleSince = 0;
  private queue: QueuedWrite[] = [];
  private queuedBytes = 0;
  private writing = false;
  private readonly idle: IdlePoll;

  constructor(path: string, opts: SerialPortOptions, log: TransportLog) {
    super(path, opts, log);
    this.idle = opts.idlePoll ?? IDLE_POLL;
  }

  private nextIdleDelay(): number {
    const now = performance.now();
    if (this.idleDelay === 0) {
      this.idleSince = now;
      return this.idle.minMs;
    }
    const cap = now - this.idleSince < this.idle.burstMs ? this.idle.burstMaxMs : this.idle.maxMs;
    return Math.min(cap, this.idleDelay * 2);
  }

  protected async open(): Promise<void> {
    const { O_RDWR, O_NOCTTY } = fs.constants;
    const fd = await openFd(this.path, O_RDWR | O_NOCTTY);
    if (this.stopped) {
      closeFd(fd);
      return;
    }
    this.fd = fd;
    this.idleDelay = 0;
    this.read(fd);
  }

  private read(fd: number): void {
    fs.read(fd, this.buf, 0, READ_SIZE, null, (err, n) => {
      if (this.stopped || this.fd !== fd) return;
      if (err) return this.fail(fd, err);
      if (n === 0) {
        // No host attached (or it just left). The driver's "host closed" notice travels on the control
        // queue and may arrive after the next host's first bytes (seen in the VM soak: the reply to that
        // request was dropped), so the conversation ends only once read() has kept returning 0 for
        // HOST_GONE_CONFIRM_MS; a read that returns data or blocks in between means a host is there.
        const conn = this.conn;
        const now = performance.now();
        if (conn) {
          conn.goneSince ??= now;
          if (now - conn.goneSince >= HOST_GONE_CONFIRM_MS) this.endConnection('host disconnected');
        }
        this.idleDelay = this.nextIdleDelay();
        this.idleTimer = setTimeout(() => {
          this.idleTimer = undefined;
          if (!this.stopped && this.fd === fd) this.read(fd);
        }, this.idleDelay);
        return;
      }
      this.idleDelay = 0;
      const conn = this.conn ?? this.newConnection();
      conn.goneSince = undefined;
      const chunk = Buffer.allocUnsafe(n);
      this.buf.copy(chunk, 0, 0, n);
      this.read(fd);
      this.handlers?.data(conn, chunk);
    });
  }

  private newConnection(): SerialConnection {
    const conn: SerialConnection = {
      id: newConnectionId(),
      closed: false,
      write: (data) => this.enqueue(conn, data),
      close: () => {
        if (this.conn === conn) this.endConnection('closed by the agent');
      },
    };
    this.conn = conn;
    this.handlers?.opened?.(conn);
    return conn;
  }

  /** A device error (ENODEV after hot-unplug, EIO): drop the fd and reopen every second. */
  private fail(fd: number, err: NodeJS.ErrnoException): void {
    this.log.warn({ path: this.path, err: err.message }, 'channel error; reopening');
    this.endConnection('channel error');
    this.fd = undefined;
    closeFd(fd);
    this.scheduleReopen();
  }

  private enqueue(conn: SerialConnection, data: Buffer): Promise<void> {
    if (conn.closed || this.stopped) {
      this.log.debug({ conn: conn.id, bytes: data.length }, 'reply dropped: host gone');
      return Promise.resolve();
    }
    const max = this.opts.maxQueuedBytes ?? 160 << 20;
    if (this.queuedBytes > 0 && this.queuedBytes + data.length > max) {
      this.log.warn({ conn: conn.id, bytes: data.length, queued: this.queuedBytes }, 'reply dropped: the host is not reading');
      return Promise.resolve();
    }
    return new Promise((resolve) => {
      this.queue.push({ conn, data, offset: 0, resolve });
      this.queuedBytes += data.length;
      this.pump();
    });
  }

  private pump(): void {
    if (this.writing) return;
    const w = this.queue[0];
    const fd = this.fd;
    if (!w) return;
    if (w.conn.closed || fd === undefined || this.stopped) {
      this.finish(w);
      return this.pump();
    }
    this.writing = true;
    const len = Math.min(WRITE_CHUNK, w.data.length - w.offset);
    fs.write(fd, w.data, w.offset, len, null, (err, written) => {
      this.writing = false;
      if (err) {
        this.log.warn({ conn: w.conn.id, err: err.message }, 'write failed; reply dropped');
        this.finish(w);
      } else {
        w.offset += written;
        if (w.offset >= w.data.length) this.finish(w);
      }
      this.pump();
    });
  }

  private finish(w: QueuedWrite): void {
    const i = this.queue.indexOf(w);
    if (i >= 0) this.queue.splice(i, 1);
    this.queuedBytes -= w.data.length;
    w.resolve();
  }

  protected override dropQueued(conn: SerialConnection, reason: string): void {
    // The head may be in the pool right now; it finishes (or is dropped) in pump().
    const keep = this.writing ? this.queue[0] : undefined;
    const dropped = this.queue.filter((w) => w.conn === conn && w !== keep);
    if (dropped.length === 0) return;
    this.log.warn(
      { conn: conn.id, replies: dropped.length, bytes: dropped.reduce((s, w) => s + w.data.length, 0), reason },
      'replies dropped: host gone',
    );
    for (const w of dropped) this.finish(w);
  }

  async close(): Promise<void> {
    this.stopped = true;
    this.stopRetry();
    clearTimeout(this.idleTimer);
    this.endConnection('transport closed');
    for (const w of [...this.queue]) this.finish(w);
    const fd = this.fd;
    this.fd = undefined;
    // A read blocked in the kernel keeps the file until it returns; close() does not wait for it.
    if (fd !== undefined) closeFd(fd);
  }
}

/** isa-serial: a tty with real readiness through libuv; one conversation per open. */
class IsaPort extends PortBase {
  private input: tty.ReadStream | undefined;
  private output: tty.WriteStream | undefined;

  protected async open(): Promise<void> {
    const { O_RDWR, O_NOCTTY, O_NONBLOCK } = fs.constants;
    const rfd = await openFd(this.path, O_RDWR | O_NOCTTY | O_NONBLOCK);
    if (!tty.isatty(rfd)) {
      closeFd(rfd);
      throw new Error(`${this.path} is not a tty`);
    }
    let wfd: number;
    try {
      // libuv marks a tty handle readable or writable, not both: one fd each way.
      wfd = await openFd(this.path, O_RDWR | O_NOCTTY | O_NONBLOCK);
    } catch (err) {
      closeFd(rfd);
      throw err;
    }
    if (this.stopped) {
      closeFd(rfd);
      closeFd(wfd);
      return;
    }
    const input = new tty.ReadStream(rfd);
    const output = new tty.WriteStream(wfd);
    input.setRawMode(true);
    await this.disableOutputProcessing();
    this.input = input;
    this.output = output;
    const conn: SerialConnection = {
      id: newConnectionId(),
      closed: false,
      write: (data) => this.write(conn, data),
      close: () => {},
    };
    this.conn = conn;
    this.handlers?.opened?.(conn);
    input.on('data', (chunk: Buffer) => this.handlers?.data(conn, chunk));
    const onGone = (err?: Error) => {
      if (this.input !== input) return;
      if (err) this.log.warn({ path: this.path, err: err.message }, 'channel error; reopening');
      this.teardown();
      this.endConnection(err ? 'channel error' : 'end of input');
      this.scheduleReopen();
    };
    input.on('error', onGone);
    input.on('end', () => onGone());
    output.on('error', onGone);
  }

  /** cfmakeraw also clears OPOST; libuv's raw mode does not, stty can. Missing stty only costs a "\r". */
  private disableOutputProcessing(): Promise<void> {
    return new Promise((resolve) => {
      execFile('stty', ['-F', this.path, '-opost'], { timeout: 2000 }, (err) => {
        if (err) this.log.debug({ path: this.path, err: err.message }, 'stty -opost failed: replies will end in \\r\\n');
        resolve();
      });
    });
  }

  private write(conn: SerialConnection, data: Buffer): Promise<void> {
    const out = this.output;
    if (conn.closed || !out || out.destroyed) return Promise.resolve();
    const max = this.opts.maxQueuedBytes ?? 160 << 20;
    if (out.writableLength > 0 && out.writableLength + data.length > max) {
      this.log.warn({ conn: conn.id, bytes: data.length, queued: out.writableLength }, 'reply dropped: the host is not reading');
      return Promise.resolve();
    }
    return new Promise((resolve) => out.write(data, () => resolve()));
  }

  private teardown(): void {
    const { input, output } = this;
    this.input = undefined;
    this.output = undefined;
    if (input) {
      input.removeAllListeners('data');
      try {
        input.setRawMode(false);
      } catch {}
      input.destroy();
    }
    output?.destroy();
  }

  async close(): Promise<void> {
    this.stopped = true;
    this.stopRetry();
    this.teardown();
    this.endConnection('transport closed');
  }
}
