// The byte channel between agent and host, independent of any command.
import type { EventEmitter } from 'node:events';

/**
 * Who the peer proved to be to the transport itself (the management endpoint's TLS client certificate:
 * CN as the user, O as the groups). Channels without authentication (virtio-serial, unix sockets) have
 * none. A connection allowed in without a certificate starts unauthenticated; the agent completes this
 * object in place when the peer authenticates in-band (a bearer token), and the transport closes the
 * connection if that does not happen in time.
 */
export interface PeerIdentity {
  user: string;
  groups: readonly string[];
  uid?: string;
  extra?: Record<string, string[]>;
  authenticated: 'certificate' | 'token' | false;
}

/** One host conversation: a unix-socket client, or one open/close cycle of a serial port. */
export interface Connection {
  readonly id: number;
  /** Set by transports that authenticate their peers (tls); absent on the hypervisor's channels. */
  readonly peer?: PeerIdentity;
  /**
   * Queue bytes for the host. Undefined when they were handed to the OS at once (or dropped: the host
   * left); else a promise that resolves when they are. The agent waits for it before the next reply, so
   * a host that does not read holds back its own conversation only. No promise in the common case: the
   * agent's per-request work is small enough that a microtask hop shows (and TCG multiplies it).
   */
  write(data: Buffer): Promise<void> | undefined;
  /** End this conversation (the transport keeps listening). */
  close(): void;
  /**
   * Stop delivering data until resume() (flow control; transports that cannot pause leave these out).
   * The transport then stops reading, after at most a buffer's worth (a socket's high-water mark, one
   * chunk on virtio-serial), so the host's bytes wait in the kernel or in QEMU.
   */
  pause?(): void;
  resume?(): void;
}

export interface ConnectionHandlers {
  /**
   * Bytes from the host: chunk[0, length) (all of chunk when length is absent). The chunk may be reused once
   * the call returns (copy what must outlive it): the virtio-serial port hands on its own read buffer, so
   * that a request costs no allocation on the way in.
   */
  data(conn: Connection, chunk: Buffer, length?: number): void;
  /** The host went away (EOF, HUP, error): reset per-connection state. */
  closed(conn: Connection): void;
  opened?(conn: Connection): void;
}

/** A transport: opens the device or socket and reports conversations until closed. */
export interface Transport {
  readonly name: string;
  start(handlers: ConnectionHandlers): Promise<void>;
  close(): Promise<void>;
  /**
   * Leave the channel now, as an agent that exits does, and come back later (virtio-serial: the port is
   * closed, so the host sees the agent go, and reopened a second later). The reboot(2) power back end
   * calls it just before the machine stops: see LinuxPower's PowerDeps.beforeReboot.
   */
  hangUp?(): void;
}

/** The part of a pino logger the transports use; the agent passes its own. */
export interface TransportLog {
  warn(obj: object, msg: string): void;
  info(obj: object, msg: string): void;
  debug(obj: object, msg: string): void;
}

/**
 * Replies waiting for hosts to take them, per transport (--max-queued-reply-bytes): one maximal
 * guest-file-read reply (48 MiB read, 64 MiB of base64). The agent hands a connection its next reply only
 * once the last is taken, so the queue holds the current conversation's reply and, briefly, those of a
 * host that left; one reply is always taken when none waits.
 */
export const DEFAULT_MAX_QUEUED_REPLY_BYTES = 64 << 20;

/**
 * A promise for when a stream that refused more (write() returned false) has drained, or closed: a
 * connection's writer waits for it before its next reply.
 */
export function drained(stream: EventEmitter): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      stream.off('drain', done);
      stream.off('close', done);
      resolve();
    };
    stream.on('drain', done);
    stream.on('close', done);
  });
}

let nextConnectionId = 1;
/** Connection ids unique within the process, for logs and audit records. */
export function newConnectionId(): number {
  return nextConnectionId++;
}
