// isa-port: qemu-ga -m isa-serial on a tty (/dev/ttyS0). A tty, so tty.ReadStream does real readiness (epoll)
// and there is no host attach/leave to see: one Connection per open. Raw mode comes from libuv (setRawMode:
// no echo, no canonical mode, no signals, no CR/LF input mapping, 8 bits); libuv keeps output
// post-processing (ONLCR), so when `stty` exists we also run `stty -F <path> -opost` (spawned, no shell) to
// match qemu-ga's cfmakeraw-like setup byte for byte; without it replies end in "\r\n", which hosts' line
// readers accept.
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import tty from 'node:tty';
import { closeFd, openFd, PortBase, type SerialConnection } from './port-base.js';
import { DEFAULT_MAX_QUEUED_REPLY_BYTES, drained, newConnectionId } from './types.js';

/** isa-serial: a tty with real readiness through libuv; one conversation per open. */
export class IsaPort extends PortBase {
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
      // Flow control: a paused tty.ReadStream stops reading once its buffer reaches the high-water mark;
      // the host's bytes then wait in the tty's input queue (and QEMU's).
      pause: () => {
        if (this.input === input) input.pause();
      },
      resume: () => {
        if (this.input === input) input.resume();
      },
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

  /** Undefined when the stream took the bytes below its high-water mark; else a promise for 'drain' (as unix-listen). */
  private write(conn: SerialConnection, data: Buffer): Promise<void> | undefined {
    const out = this.output;
    if (conn.closed || !out || out.destroyed) return undefined;
    const max = this.opts.maxQueuedBytes ?? DEFAULT_MAX_QUEUED_REPLY_BYTES;
    if (out.writableLength > 0 && out.writableLength + data.length > max) {
      this.log.warn({ conn: conn.id, bytes: data.length, queued: out.writableLength }, 'reply dropped: the host is not reading');
      return undefined;
    }
    if (out.write(data)) return undefined;
    return drained(out);
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
