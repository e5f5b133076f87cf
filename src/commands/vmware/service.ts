// The TCLO loop (open-vm-tools rpcin.c, govmomi toolbox Service): send the last reply, receive the
// next command, dispatch it by name; poll faster while the host talks, back off to 100 ms while it is
// quiet; after a channel error wait, then reopen both channels.
import type { Channel } from '../../protocol/vmware/channel.js';
import {
  MAX_POLL_TICKS,
  nextPollDelay,
  POLL_TICK_MS,
  parseTcloRequest,
  RESET_DELAY_MS,
  tcloReply,
  UNKNOWN_COMMAND_REPLY,
} from '../../protocol/vmware/tclo.js';
import { silentLog, type VmwareLog } from './log.js';
import type { RpciClient } from './rpci-client.js';

/** A TCLO command handler: gets the bytes after the name; its result follows `OK `; a throw becomes `ERROR <message>`. */
export type TcloHandler = (args: Buffer) => Promise<Buffer | string | undefined> | Buffer | string | undefined;

export interface ServiceOptions {
  log?: VmwareLog;
  /** Milliseconds to wait before reopening the channels after an error. Default RESET_DELAY_MS (5 s). */
  resetDelayMs?: number;
  /** Test hook: how the loop waits (default a timer that stop() cuts short). */
  sleep?: (ms: number, signal: AbortSignal) => Promise<void>;
}

function abortableSleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve();
    const t = setTimeout(done, ms);
    function done() {
      clearTimeout(t);
      signal.removeEventListener('abort', done);
      resolve();
    }
    signal.addEventListener('abort', done, { once: true });
  });
}

export class TcloService {
  private readonly handlers = new Map<string, TcloHandler>();
  private readonly log: VmwareLog;
  private readonly sleep: (ms: number, signal: AbortSignal) => Promise<void>;
  private abort = new AbortController();
  private loop: Promise<void> | undefined;
  /** Commands that run after their reply went out (power actions), so the host hears OK first. */
  private afterReply: (() => void)[] = [];
  /** The current poll delay in 10 ms ticks (0..MAX_POLL_TICKS); exposed for tests and metrics. */
  delayTicks = 0;
  /** Every delay the loop waited, in ms (bounded ring for tests and diagnostics). */
  readonly delaysMs: number[] = [];
  /** How many times both channels were reopened after an error. */
  resets = 0;

  constructor(
    private readonly tclo: Channel,
    readonly rpci: RpciClient,
    private readonly opts: ServiceOptions = {},
  ) {
    this.log = opts.log ?? silentLog;
    this.sleep = opts.sleep ?? abortableSleep;
  }

  register(name: string, handler: TcloHandler): void {
    this.handlers.set(name, handler);
  }

  /** Runs fn once the reply to the command being handled has been sent. */
  runAfterReply(fn: () => void): void {
    this.afterReply.push(fn);
  }

  /** One command in, one reply out: `OK ...`, `ERROR <why>`, or `ERROR Unknown Command`. */
  async dispatch(message: Buffer): Promise<Buffer> {
    const { name, args } = parseTcloRequest(message);
    const handler = this.handlers.get(name);
    if (!handler) {
      this.log.warn({ command: name.slice(0, 80) }, 'VMware: unknown TCLO command');
      return UNKNOWN_COMMAND_REPLY;
    }
    try {
      const result = await handler(args);
      return tcloReply(true, result ?? '');
    } catch (err) {
      this.log.warn({ command: name, err: String(err) }, 'VMware: TCLO handler failed');
      return tcloReply(false, (err as Error).message ?? String(err));
    }
  }

  private async startChannels(): Promise<void> {
    await this.tclo.start();
    try {
      await this.rpci.channel.start();
    } catch (err) {
      await this.tclo.stop().catch(() => {});
      throw err;
    }
  }

  private async stopChannels(): Promise<void> {
    await this.tclo.stop().catch(() => {});
    await this.rpci.channel.stop().catch(() => {});
  }

  /** Opens both channels (throws what the transport threw) and starts polling. */
  async start(): Promise<void> {
    if (this.loop) return;
    await this.startChannels();
    this.abort = new AbortController();
    this.loop = this.run(this.abort.signal);
  }

  /** Stops polling, sends nothing more, closes both channels. */
  async stop(): Promise<void> {
    this.abort.abort();
    await this.loop;
    this.loop = undefined;
  }

  private record(ms: number): void {
    this.delaysMs.push(ms);
    if (this.delaysMs.length > 256) this.delaysMs.shift();
  }

  private async run(signal: AbortSignal): Promise<void> {
    // The first send is empty: it tells the VMX a TCLO loop is there (rpcin.c "the only way to signal
    // the existence of this guest application").
    let reply: Buffer = Buffer.alloc(0);
    let failed = false;
    let waitMs = 0;
    while (!signal.aborted) {
      this.record(waitMs);
      await this.sleep(waitMs, signal);
      if (signal.aborted) break;
      if (failed) {
        await this.stopChannels();
        try {
          await this.startChannels();
        } catch (err) {
          this.log.warn({ err: String(err), retryMs: this.resetDelayMs() }, 'VMware: cannot reopen the guest RPC channels');
          waitMs = this.resetDelayMs();
          failed = true;
          continue;
        }
        this.resets++;
        failed = false;
        this.rpci.channelFailed = false;
        this.delayTicks = 0;
        reply = Buffer.alloc(0);
        this.log.info({ resets: this.resets }, 'VMware: guest RPC channels reopened');
      }
      let request: Buffer;
      try {
        await this.tclo.send(reply);
        reply = Buffer.alloc(0);
        this.flushAfterReply();
        // An RPCI failure inside a handler: the reply above still went out on the healthy TCLO channel;
        // now both are reopened after the reset delay, as after a TCLO failure.
        if (this.rpci.channelFailed) throw new Error('the RPCI channel failed');
        request = await this.tclo.receive();
      } catch (err) {
        this.afterReply = [];
        this.log.warn({ err: String(err), retryMs: this.resetDelayMs() }, 'VMware: guest RPC channel failed; reopening both');
        failed = true;
        waitMs = this.resetDelayMs();
        continue;
      }
      if (request.length > 0) {
        reply = await this.dispatch(request);
        this.delayTicks = 0;
      } else {
        this.delayTicks = nextPollDelay(this.delayTicks, MAX_POLL_TICKS);
      }
      waitMs = this.delayTicks * POLL_TICK_MS;
    }
    this.afterReply = [];
    await this.stopChannels();
  }

  private flushAfterReply(): void {
    const fns = this.afterReply;
    this.afterReply = [];
    for (const fn of fns) fn();
  }

  private resetDelayMs(): number {
    return this.opts.resetDelayMs ?? RESET_DELAY_MS;
  }
}
