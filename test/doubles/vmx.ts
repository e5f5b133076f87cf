// A double of the VMX side of VMware guest RPC (the host process of a vSphere VM), after
// open-vm-tools' rpcin.c/rpcout.c contract and govmomi's toolbox tests: it plays TCLO commands to the
// guest over an in-process channel, takes each reply, and records and answers every RPCI request the
// way a VMX does (`1 ...` accepted, `0 ...` refused), decoding what it can (SetGuestInfo values, the
// NIC info XDR) so tests can check both the bytes and what vSphere would show. Failures are injected
// on demand: a TCLO send that fails every Nth call, a channel that will not open, forced RPCI replies.
import type { Channel } from '../../src/protocol/vmware/channel.js';
import { readNicInfo, type SeenNicInfo } from './nicinfo-reader.js';

export interface PlayedCommand {
  command: string | Buffer;
  /** The reply the guest must give; checked by the test through `replies`. */
  reply?: Buffer;
}

export interface RpciRecord {
  request: Buffer;
  text: string;
  reply: Buffer;
}

export interface ChannelCounters {
  starts: number;
  stops: number;
}

/** What the VMX has learnt about the guest from its RPCIs (the data vSphere shows). */
export interface VmxGuestState {
  toolsVersion?: number;
  toolsVersionType?: number;
  capabilities: Set<string>;
  guestInfo: Map<number, string>;
  /** The last NIC info, read by the double's own XDR reader (doubles/nicinfo-reader.ts). */
  nicInfo?: SeenNicInfo;
  nicInfoKind?: number;
  guestinfoVars: Map<string, string>;
  stateChanges: { ok: boolean; state: number }[];
  uptimes: number[];
}

type Listener = () => void;

export class VmxDouble {
  /** TCLO commands waiting to be sent to the guest. */
  private queue: Buffer[] = [];
  /** The command the guest is working on (its reply comes with the next TCLO send). */
  private inFlight: Buffer | undefined;
  /** [command, reply] in order. */
  readonly replies: { command: string; reply: string }[] = [];
  readonly rpcis: RpciRecord[] = [];
  /** Commands whose reply never arrived because the channel failed and was reopened. */
  readonly lost: string[] = [];
  readonly state: VmxGuestState = {
    capabilities: new Set(),
    guestInfo: new Map(),
    guestinfoVars: new Map(),
    stateChanges: [],
    uptimes: [],
  };
  readonly tcloCount: ChannelCounters & { sends: number; receives: number; failures: number } = {
    starts: 0,
    stops: 0,
    sends: 0,
    receives: 0,
    failures: 0,
  };
  readonly rpciCount: ChannelCounters = { starts: 0, stops: 0 };
  /** Fail every Nth TCLO send (govmomi TestServiceResetChannel uses 10). 0: never. */
  failTcloSendEvery = 0;
  /** Errors the next start() calls throw, in order. */
  tcloStartErrors: Error[] = [];
  rpciStartErrors: Error[] = [];
  /** Replies forced on the next RPCIs, in order, before the normal answer applies. */
  forcedRpciReplies: Buffer[] = [];
  /** RPCI prefixes the VMX refuses with `0 ...` (an older host, a disabled feature). */
  refused: string[] = [];
  private listeners = new Set<Listener>();
  private tcloOpen = false;
  private rpciOpen = false;
  private pendingRpciReply: Buffer | undefined;

  /** Queue TCLO commands for the guest. */
  play(...commands: (string | Buffer)[]): void {
    for (const c of commands) this.queue.push(typeof c === 'string' ? Buffer.from(c, 'latin1') : c);
    this.emit();
  }

  /** All played commands have been answered. */
  get drained(): boolean {
    return this.queue.length === 0 && this.inFlight === undefined;
  }

  private emit(): void {
    for (const l of [...this.listeners]) l();
  }

  /** Resolves when pred() holds (checked after every event); rejects after timeoutMs with what was seen. */
  until(pred: () => boolean, timeoutMs = 3000, what = 'condition'): Promise<void> {
    if (pred()) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const check = () => {
        if (!pred()) return;
        this.listeners.delete(check);
        clearTimeout(timer);
        resolve();
      };
      const timer = setTimeout(() => {
        this.listeners.delete(check);
        reject(
          new Error(
            `VMX double: timed out waiting for ${what}; replies=${JSON.stringify(this.replies)} rpcis=${JSON.stringify(this.rpcis.map((r) => r.text.slice(0, 60)))}`,
          ),
        );
      }, timeoutMs);
      this.listeners.add(check);
    });
  }

  rpciTexts(): string[] {
    return this.rpcis.map((r) => r.text);
  }

  /** The guest's TCLO end. */
  tcloChannel(): Channel {
    return {
      start: async () => {
        this.tcloCount.starts++;
        const err = this.tcloStartErrors.shift();
        if (err) throw err;
        // A reopened channel is a new conversation: the reply to the command in flight is lost.
        if (this.inFlight) this.lost.push(this.inFlight.toString('latin1'));
        this.inFlight = undefined;
        this.tcloOpen = true;
      },
      stop: async () => {
        this.tcloCount.stops++;
        this.tcloOpen = false;
      },
      send: async (message) => {
        if (!this.tcloOpen) throw new Error('VMX double: TCLO send on a closed channel');
        this.tcloCount.sends++;
        if (this.failTcloSendEvery > 0 && this.tcloCount.sends % this.failTcloSendEvery === 0) {
          this.tcloCount.failures++;
          this.emit();
          throw new Error('VMX double: injected TCLO send failure');
        }
        if (this.inFlight) {
          this.replies.push({ command: this.inFlight.toString('latin1'), reply: message.toString('latin1') });
          this.inFlight = undefined;
        } else if (message.length > 0) {
          throw new Error(`VMX double: a TCLO reply ${JSON.stringify(message.toString('latin1'))} with no command in flight`);
        }
        this.emit();
      },
      receive: async () => {
        if (!this.tcloOpen) throw new Error('VMX double: TCLO receive on a closed channel');
        this.tcloCount.receives++;
        const next = this.queue.shift();
        if (!next) return Buffer.alloc(0);
        this.inFlight = next;
        return next;
      },
    };
  }

  /** The guest's RPCI end. */
  rpciChannel(): Channel {
    return {
      start: async () => {
        this.rpciCount.starts++;
        const err = this.rpciStartErrors.shift();
        if (err) throw err;
        this.rpciOpen = true;
      },
      stop: async () => {
        this.rpciCount.stops++;
        this.rpciOpen = false;
      },
      send: async (message) => {
        if (!this.rpciOpen) throw new Error('VMX double: RPCI send on a closed channel');
        if (this.pendingRpciReply) throw new Error('VMX double: a second RPCI before the first reply was read');
        const reply = this.forcedRpciReplies.shift() ?? this.answer(message);
        this.rpcis.push({ request: Buffer.from(message), text: message.toString('latin1'), reply });
        this.pendingRpciReply = reply;
        this.emit();
      },
      receive: async () => {
        const r = this.pendingRpciReply;
        if (!r) throw new Error('VMX double: RPCI receive with no request sent');
        this.pendingRpciReply = undefined;
        return r;
      },
    };
  }

  /** What a VMX answers, with the parsing a VMX does; anything malformed is refused with the reason. */
  private answer(message: Buffer): Buffer {
    const ok = (s = '') => Buffer.from(`1 ${s}`, 'latin1');
    const no = (s: string) => Buffer.from(`0 ${s}`, 'latin1');
    const text = message.toString('latin1');
    if (this.refused.some((p) => text.startsWith(p))) return no('Unknown command');
    const trimmed = text.replace(/\0+$/, '');
    let m: RegExpMatchArray | null;
    if ((m = trimmed.match(/^tools\.set\.version (\d+)$/))) {
      this.state.toolsVersion = Number(m[1]);
      return ok();
    }
    if ((m = trimmed.match(/^tools\.set\.versiontype (\d+) (\d+)$/))) {
      this.state.toolsVersion = Number(m[1]);
      this.state.toolsVersionType = Number(m[2]);
      return ok();
    }
    if ((m = trimmed.match(/^(tools\.capability\.[a-z_]+) ?(.*)$/)) || (m = trimmed.match(/^(vmx\.capability\.[a-z_]+) (.*)$/))) {
      this.state.capabilities.add(`${m[1]}${m[2] ? ` ${m[2]}` : ''}`);
      return ok();
    }
    if ((m = trimmed.match(/^tools\.os\.statechange\.status ([01]) (\d+)$/))) {
      this.state.stateChanges.push({ ok: m[1] === '1', state: Number(m[2]) });
      return ok();
    }
    if ((m = trimmed.match(/^info-set guestinfo\.([^ ]+) (.*)$/s))) {
      this.state.guestinfoVars.set(m[1] ?? '', m[2] ?? '');
      return ok();
    }
    if ((m = trimmed.match(/^info-get guestinfo\.(.+)$/))) {
      const v = this.state.guestinfoVars.get(m[1] ?? '');
      return v === undefined ? no('No value found') : ok(v);
    }
    if (text.startsWith('SetGuestInfo ')) {
      // guestInfoServer.c writes "SetGuestInfo  <kind> <value>": an empty key, then the kind.
      const mm = text.match(/^SetGuestInfo {2}(\d+) /);
      if (!mm) return no('Invalid SetGuestInfo request: expected two spaces before the kind');
      const kind = Number(mm[1]);
      const value = message.subarray(mm[0].length);
      if (kind === 9 || kind === 10) {
        try {
          this.state.nicInfo = readNicInfo(value);
          this.state.nicInfoKind = kind;
        } catch (err) {
          return no(`Invalid NIC info: ${(err as Error).message}`);
        }
        return ok();
      }
      if (kind === 7) {
        if (!/^\d+$/.test(value.toString('latin1'))) return no('uptime must be a number');
        this.state.uptimes.push(Number(value.toString('latin1')));
      }
      if (kind < 1 || kind > 11) return no(`Unknown guest info kind ${kind}`);
      this.state.guestInfo.set(kind, value.toString('utf8'));
      return ok();
    }
    if (trimmed.startsWith('log ')) return ok();
    return no('Unknown command');
  }
}
