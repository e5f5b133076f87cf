// unix-listen's listening socket made and accepted from by the native addon (native/unix-socket.c), so that
// each host's socket can be made by node:net from its fd with one read buffer (`new net.Socket({fd, onread})`).
// Node's net.Server cannot give the sockets it accepts a read buffer: each read there is a new Buffer (with
// its ArrayBuffer), garbage a scavenge must clear, and the external memory of a large request's reads is let
// go only when V8 next collects. Its listen() also loads node:cluster, dgram and child_process.
import { closeSync } from 'node:fs';
import os from 'node:os';
import type { TransportLog } from './types.js';
import { errnoError } from './write-queue.js';

/** The addon's functions this needs (src/native/addon.ts nativeUnixSocket; the agent hands them on). */
export interface UnixSocketNative {
  /** A non-blocking listening socket bound to path, its file never wider than mode; throws an errno error. */
  listen(path: string, mode: number, backlog: number): number;
  /** accept4: a non-blocking, close-on-exec connection fd, or -errno (-EAGAIN: nobody waiting). */
  accept(fd: number): number;
  /** Edge-triggered readiness of fd (native/readiness.c fdWatch): onReady must accept until EAGAIN. */
  watch(fd: number, onReady: () => void): unknown;
  unwatch(token: unknown): void;
}

/** Connections the kernel queues for the agent before it accepts them (Node's net.Server uses 511). */
export const LISTEN_BACKLOG = 511;
/** Accepted per readiness event before yielding to the event loop (hosts that connect without pause). */
const ACCEPTS_PER_TURN = 64;
/** After accept4 failed for want of fds or memory: when to try again (the host waits in the backlog). */
export const ACCEPT_RETRY_MS = 100;

const { EAGAIN, ECONNABORTED } = os.constants.errno;

/** Listens on a unix socket path and hands each accepted connection's fd to onConnection. */
export class NativeAcceptor {
  private fd: number | undefined;
  private token: unknown;
  private retry: NodeJS.Timeout | undefined;
  private warned = false;

  constructor(
    private readonly native: UnixSocketNative,
    private readonly log: TransportLog,
    /** Owns the fd from then on (closes it, or gives it to a socket that will). Must not throw. */
    private readonly onConnection: (fd: number) => void,
  ) {}

  /** Binds and listens on path (throws as bind/listen do); hosts are accepted from then on. */
  open(path: string, mode: number): void {
    let fd: number;
    try {
      fd = this.native.listen(path, mode, LISTEN_BACKLOG);
    } catch (err) {
      // The path in the message, as node:net's listen() puts it ("listen EADDRINUSE: ... /path").
      const e = err as NodeJS.ErrnoException;
      throw Object.assign(new Error(`${e.syscall} ${e.code}: ${e.message} ${path}`), {
        code: e.code,
        errno: e.errno,
        syscall: e.syscall,
        address: path,
      });
    }
    try {
      this.token = this.native.watch(fd, () => this.acceptAll());
    } catch (err) {
      closeSync(fd);
      throw err;
    }
    this.fd = fd;
  }

  /** Accepts what waits: edge-triggered, so until EAGAIN, or for ACCEPTS_PER_TURN and then again later. */
  private acceptAll(): void {
    const fd = this.fd;
    if (fd === undefined) return;
    for (let i = 0; i < ACCEPTS_PER_TURN; i++) {
      const c = this.native.accept(fd);
      if (c >= 0) {
        this.warned = false;
        this.onConnection(c);
        continue;
      }
      if (c === -EAGAIN) return;
      // The host gave up while it waited: the next one may be there.
      if (c === -ECONNABORTED) continue;
      // Out of fds (EMFILE, ENFILE) or memory: the host stays in the backlog, and no new event may come for
      // it, so come back for it.
      if (!this.warned) this.log.warn({ err: String(errnoError(c, 'accept4')), retryMs: ACCEPT_RETRY_MS }, 'cannot accept a host yet');
      this.warned = true;
      return this.later(ACCEPT_RETRY_MS);
    }
    this.later(0);
  }

  private later(ms: number): void {
    if (this.retry || this.fd === undefined) return;
    this.retry = setTimeout(() => {
      this.retry = undefined;
      this.acceptAll();
    }, ms);
  }

  /** Stops listening: the socket is closed (the caller removes its file); accepted connections live on. */
  close(): void {
    clearTimeout(this.retry);
    this.retry = undefined;
    if (this.token !== undefined) this.native.unwatch(this.token);
    this.token = undefined;
    if (this.fd !== undefined) closeSync(this.fd);
    this.fd = undefined;
  }
}
