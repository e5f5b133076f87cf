// serial-port: the virtio-serial port (/dev/virtio-ports/org.qemu.guest_agent.0, virtio-port.ts) and the
// isa-serial tty (/dev/ttyS0, isa-port.ts), as qemu-ga -m virtio-serial / -m isa-serial.
//
// virtio-serial, how the driver behaves (Linux drivers/char/virtio_console.c, and seen in the TCG VM):
// - Node cannot stream it: net.Socket({fd}) and tty.ReadStream refuse a non-tty char device; poll()
//   reports POLLIN|POLLHUP while no host is attached, so level-triggered readiness (libuv's uv_poll) spins.
// - read(): data if any; else 0 while no host is attached; else EAGAIN (O_NONBLOCK) or sleep until data
//   or the host leaves. write(): EAGAIN (or sleep) while no host is attached or the host stops reading;
//   at most 32 KiB per call. One opener at a time (EBUSY).
// - The driver wakes its wait queue when data arrives (in_intr) and when a host attaches or leaves
//   (VIRTIO_CONSOLE_PORT_OPEN); with F_SETOWN and O_ASYNC it also sends SIGIO at those moments.
// Design, with the agent's readiness (the native addon's fdWatch): the fd is O_NONBLOCK and sits, edge-
// triggered (EPOLLET), in an epoll set of its own, whose fd libuv watches like any socket: each wake-up of
// the driver's queue (data, host came or went) runs one callback on the event loop, and the HUP that is
// permanent while no host is attached is reported once, not for ever. The callback drains the port with
// the addon's fdRead until EAGAIN (host there, nothing more) or 0 (no host); replies go out with fdWrite
// straight from a bounded queue (any size, 32 KiB per call); a write that gets EAGAIN is retried at the next
// event (the host's PORT_OPEN: a host that reconnects before the driver saw it attach) or after 1..50 ms (a
// host that does not read). fdRead/fdWrite return -errno instead of throwing: each drain ends in EAGAIN,
// and a Node exception per request is measurable under TCG. Nothing waits in the libuv pool, so close() and
// process.exit() are immediate, and idle costs nothing but a safety read every SAFETY_POLL_MS (2 s), in
// case an event is ever lost; if that read finds data three times in a row with no announced read
// between, the port reads every IdlePoll.maxMs instead.
// Why not SIGIO (the design before this one): a signal reaches Node through libuv's signal pipe, ~1 ms per
// request in the TCG VM (docs/transport.md has the measurements).
// Without the addon (or fdWatch failing): one blocking fd, one fs.read in flight on
// the pool (the wait while a host is attached), and while none is read() returns 0 at once, so we
// sleep between reads with a short backoff (IDLE_POLL: 1 ms doubling to 8 ms for 2 s after a host
// left, then 50 ms); writes one at a time through the pool. There a read blocked on a silent host
// keeps process.exit() waiting (it joins pool threads): the agent exits by re-raising the signal.
// Both: a conversation ends once read() has returned 0 for HOST_GONE_CONFIRM_MS (100 ms), because the
// driver's "host closed" notice travels on the control queue and can arrive after the next host's first
// bytes; a conversation's queued replies are dropped, with a log line, when its host is gone.
// Flow control (src/agent/serve.ts pauses a conversation while a request is under way and bytes wait):
// virtio-serial then delivers nothing and reads ahead at most PAUSED_READ_LIMIT (256 KiB, so a host that
// leaves is still noticed), then stops reading; isa-serial pauses its tty.ReadStream.
// Measurements behind these choices (TCG VM: idle CPU, reconnect latency, SIGIO vs watch vs polling):
// docs/transport.md.
// isa-serial: a tty with real readiness (epoll) through tty.ReadStream; details in isa-port.ts.
import { debuglog } from 'node:util';
import type { IsaPort } from './isa-port.js';
import type { SerialPortOptions, TransportLog } from './port-base.js';
import type { ConnectionHandlers, Transport } from './types.js';
import { VirtioPort } from './virtio-port.js';

export type { IdlePoll, SerialPortOptions, TransportLog } from './port-base.js';
export { HOST_GONE_CONFIRM_MS, IDLE_POLL, PAUSED_READ_LIMIT, SAFETY_POLL_MS } from './virtio-port.js';

const debug = debuglog('guestlink:serial');
/** Used when no logger is passed: warnings as JSON lines on stderr, debug through NODE_DEBUG=guestlink:serial. */
const fallbackLog: TransportLog = {
  warn: (obj, msg) => process.stderr.write(`${JSON.stringify({ level: 40, time: Date.now(), msg, ...obj })}\n`),
  info: (obj, msg) => debug('%s %j', msg, obj),
  debug: (obj, msg) => debug('%s %j', msg, obj),
};

/** Opens a serial device and serves one host conversation at a time (qemu-ga -m virtio-serial / isa-serial). */
export class SerialPortTransport implements Transport {
  readonly name: string;
  private readonly log: TransportLog;
  /** isa-serial's port is made at start(): isa-port.ts loads node:tty (and so node:net) and node:child_process. */
  private port: VirtioPort | IsaPort | undefined;

  constructor(
    readonly path: string,
    private readonly opts: SerialPortOptions,
  ) {
    this.name = opts.kind;
    this.log = opts.log ?? fallbackLog;
    if (opts.kind === 'virtio-serial') this.port = new VirtioPort(path, opts, this.log);
  }

  async start(h: ConnectionHandlers): Promise<void> {
    this.port ??= new (await import('./isa-port.js')).IsaPort(this.path, this.opts, this.log);
    await this.port.start(h, this.opts.retry, (err) => new SerialPortOpenError(this.path, err));
  }

  async close(): Promise<void> {
    await this.port?.close();
  }

  hangUp(): void {
    if (this.port instanceof VirtioPort) this.port.hangUp();
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
