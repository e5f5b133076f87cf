// What the two read modes of the virtio-serial port (virtio-watch.ts, virtio-poll.ts) need from the port.
import type { SerialConnection, TransportLog } from './port-base.js';

/** How long read() must keep returning 0 before a virtio-serial conversation counts as ended. */
export const HOST_GONE_CONFIRM_MS = 100;
/** Bytes per read. */
export const READ_SIZE = 64 << 10;

/** The port as its read modes see it. */
export interface ReadHost {
  readonly path: string;
  readonly log: TransportLog;
  /** The open fd now (a read mode working on another fd stops). */
  readonly fd: number | undefined;
  readonly stopped: boolean;
  /** The buffer reads go into (READ_SIZE bytes); deliver() copies out of it. */
  readonly buf: Buffer;
  /** The conversation going on, if any. */
  readonly conn: SerialConnection | undefined;
  /** Hands the first n bytes of buf on (or holds them while the conversation is paused). */
  deliver(n: number, beforeHandlers?: () => void): void;
  /** A paused conversation has read ahead as far as it may: stop reading until it resumes. */
  holdingEnough(): boolean;
  endConnection(reason: string): void;
  /** A device error: the port closes and reopens. */
  fail(fd: number, err: NodeJS.ErrnoException): void;
}
