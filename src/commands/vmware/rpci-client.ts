// Guest -> host requests over the RPCI channel, one at a time (the TCLO handlers and the guest info
// refresh share one channel, and a request's reply must not be taken by another).
import type { Channel } from '../../protocol/vmware/channel.js';
import { MAX_MESSAGE_BYTES } from '../../protocol/vmware/channel.js';
import { VmwareError } from '../../protocol/vmware/errors.js';
import { parseRpciReply } from '../../protocol/vmware/rpci.js';

export class RpciClient {
  private tail: Promise<unknown> = Promise.resolve();
  /** Set when the channel failed (not when the host refused): the service reopens both channels. */
  channelFailed = false;

  constructor(readonly channel: Channel) {}

  /** Sends one request and returns the reply's payload after `1 `; rejects on `0 ` or a channel failure. */
  request(message: Buffer): Promise<Buffer> {
    const run = async (): Promise<Buffer> => {
      if (message.length === 0) throw new VmwareError('RPCI_BAD_REPLY', 'an empty RPCI request is not sent');
      if (message.length > MAX_MESSAGE_BYTES)
        throw new VmwareError('MESSAGE_TOO_LONG', `an RPCI request of ${message.length} bytes is over ${MAX_MESSAGE_BYTES}`);
      let reply: Buffer;
      try {
        await this.channel.send(message);
        reply = await this.channel.receive();
      } catch (err) {
        this.channelFailed = true;
        throw err instanceof VmwareError ? err : new VmwareError('CHANNEL', `RPCI channel: ${(err as Error).message}`);
      }
      return parseRpciReply(message, reply);
    };
    const p = this.tail.then(run, run);
    this.tail = p.catch(() => {});
    return p;
  }

  /** request() that logs instead of throwing: for reports the host may not support. */
  async tryRequest(message: Buffer, onError: (err: Error) => void): Promise<Buffer | undefined> {
    try {
      return await this.request(message);
    } catch (err) {
      onError(err as Error);
      return undefined;
    }
  }
}
