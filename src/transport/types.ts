// The byte channel between agent and host, independent of any command.

/** One host conversation: a unix-socket client, or one open/close cycle of a serial port. */
export interface Connection {
  readonly id: number;
  /** Queue bytes for the host; resolves once handed to the OS (or dropped if the host left). */
  write(data: Buffer): Promise<void>;
  /** End this conversation (the transport keeps listening). */
  close(): void;
  /** Stop delivering data until resume() (flow control; transports that cannot pause leave these out). */
  pause?(): void;
  resume?(): void;
}

export interface ConnectionHandlers {
  data(conn: Connection, chunk: Buffer): void;
  /** The host went away (EOF, HUP, error): reset per-connection state. */
  closed(conn: Connection): void;
  opened?(conn: Connection): void;
}

/** A transport: opens the device or socket and reports conversations until closed. */
export interface Transport {
  readonly name: string;
  start(handlers: ConnectionHandlers): Promise<void>;
  close(): Promise<void>;
}

let nextConnectionId = 1;
/** Connection ids unique within the process, for logs and audit records. */
export function newConnectionId(): number {
  return nextConnectionId++;
}
