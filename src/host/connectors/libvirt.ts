// libvirt:DOMAIN (with --connect URI) — through `virsh qemu-agent-command`, one virsh run per call.
//
// Why virsh and not the domain's agent socket: libvirtd holds the one connection QEMU's chardev
// accepts (the channel under /var/lib/libvirt/qemu/channel/target/...), so a second client is refused
// or, worse, steals replies from libvirt's own sync; going through libvirt keeps libvirt's sync and
// timeouts, works remotely (qemu+ssh://), and honours libvirt's access control. libvirt's C API would
// need a native binding; virsh is its supported command-line face and is installed wherever libvirt is.
// Power goes through `virsh shutdown|reboot --mode agent`, because libvirt waits for the agent to go
// away after guest-shutdown (which has no reply) and reports the result properly.
import { execFile } from 'node:child_process';
import { findCommand } from '../../protocol/qga/commands.js';
import { JsonStreamReader } from '../../protocol/qga/json-stream.js';
import { isObject, type JsonObject, type JsonValue, writeJson } from '../../protocol/qga/json-value.js';
import type { AgentConnection, CallOptions } from '../connection.js';
import { AgentUnreachableError, QgaRemoteError, QgaTimeoutError, TooLargeError } from '../errors.js';
import { MAX_PLAIN_REPLY, replyPayload, replyWireLimit, WIRE_FACTOR } from '../reply-limits.js';

export interface LibvirtOptions {
  /** libvirt connection URI (virsh -c); absent: virsh's default (LIBVIRT_DEFAULT_URI or qemu:///session|system). */
  connectUri?: string;
  /** The virsh program (default "virsh" from PATH). */
  virsh?: string;
}

/** Runs virsh; resolves with stdout (at most `maxBytes`), rejects with the error mapped from its stderr. */
export function runVirsh(opts: LibvirtOptions, args: string[], timeoutMs: number, maxBytes = MAX_PLAIN_REPLY): Promise<string> {
  const argv = [...(opts.connectUri ? ['-c', opts.connectUri] : []), ...args];
  return new Promise((resolve, reject) => {
    execFile(opts.virsh ?? 'virsh', argv, { timeout: timeoutMs, maxBuffer: maxBytes, encoding: 'utf8' }, (err, stdout, stderr) => {
      if (!err) return resolve(stdout);
      const e = err as NodeJS.ErrnoException & { killed?: boolean };
      if (e.code === 'ERR_CHILD_PROCESS_STDIO_MAXBUFFER')
        return reject(
          new TooLargeError(`virsh ${args[0]} printed more than ${maxBytes} bytes; stopped reading (a broken or hostile agent)`),
        );
      if (e.code === 'ENOENT')
        return reject(new AgentUnreachableError(`virsh not found (${opts.virsh ?? 'virsh'}): install libvirt-clients`));
      if (e.killed) return reject(new QgaTimeoutError(`virsh ${args[0]} did not finish within ${timeoutMs} ms`));
      reject(mapVirshError(stderr.trim() || e.message));
    });
  });
}

/** Turns virsh's error text into the toolkit's error classes. */
export function mapVirshError(text: string): Error {
  const msg = text.replace(/^error:\s*/gm, '').trim();
  const agent = /unable to execute QEMU agent command '[^']*': (.*)$/s.exec(msg);
  if (agent) {
    const desc = (agent[1] as string).trim();
    // libvirt keeps only the description: the class is recovered from qemu-ga's wording.
    const cls = /has not been found|has been disabled/.test(desc) ? 'CommandNotFound' : 'GenericError';
    return new QgaRemoteError(cls, desc);
  }
  if (/Guest agent is not responding|agent timeout|Timed out during operation/i.test(msg)) return new QgaTimeoutError(msg);
  return new AgentUnreachableError(msg);
}

function parseReply(text: string): JsonValue {
  let out: JsonValue | undefined;
  const r = new JsonStreamReader((ev) => {
    if (!('error' in ev)) out ??= ev.value;
  });
  r.feed(Buffer.from(`${text} `));
  if (out === undefined) throw new AgentUnreachableError(`virsh printed no JSON reply: ${text.slice(0, 200)}`);
  return out;
}

export class LibvirtConnection implements AgentConnection {
  /** virsh gets the request as one argv string (at most 128 KiB on Linux): 48 KiB of data is 64 KiB of base64. */
  readonly limits = { readChunk: 1 << 20, writeChunk: 48 << 10 };

  constructor(
    readonly address: string,
    readonly name: string,
    private readonly opts: LibvirtOptions,
  ) {}

  async call(execute: string, args?: JsonObject, opts: CallOptions = {}): Promise<JsonValue> {
    const timeoutMs = opts.timeoutMs ?? 5000;
    const seconds = Math.max(1, Math.ceil(timeoutMs / 1000));
    // virsh itself gets a few seconds more than libvirt's agent timeout, so libvirt's own error wins.
    const virshMs = timeoutMs + 10_000;
    if (execute === 'guest-shutdown') {
      const mode = typeof args?.mode === 'string' ? args.mode : 'powerdown';
      if (mode === 'powerdown' || mode === 'reboot') {
        await runVirsh(this.opts, [mode === 'reboot' ? 'reboot' : 'shutdown', this.name, '--mode', 'agent'], virshMs + 60_000);
        return null;
      }
    }
    const req = args && Object.keys(args).length > 0 ? { execute, arguments: args } : { execute };
    try {
      const limit = replyWireLimit(replyPayload(execute, args, opts.maxPayloadBytes), WIRE_FACTOR.base64);
      const out = await runVirsh(
        this.opts,
        ['qemu-agent-command', this.name, '--timeout', String(seconds), writeJson(req)],
        virshMs,
        limit,
      );
      const reply = parseReply(out);
      return isObject(reply) && 'return' in reply ? (reply.return as JsonValue) : reply;
    } catch (err) {
      // Commands that answer only on failure (halt, suspend): libvirt's timeout is their success.
      if (findCommand(execute)?.successResponse === false && err instanceof QgaTimeoutError) return null;
      throw err;
    }
  }

  close(): void {}
}

/** Running domain names matching a glob (`*`, `?`, `[...]`), for fleet mode. */
export async function listDomains(opts: LibvirtOptions, pattern: string, timeoutMs = 30_000): Promise<string[]> {
  const out = await runVirsh(opts, ['list', '--name'], timeoutMs);
  const re = globToRegExp(pattern);
  return out
    .split('\n')
    .map((s) => s.trim())
    .filter((s) => s && re.test(s));
}

/** A shell-style glob as an anchored regular expression. */
export function globToRegExp(glob: string): RegExp {
  let re = '';
  for (let i = 0; i < glob.length; i++) {
    const c = glob[i] as string;
    if (c === '*') re += '.*';
    else if (c === '?') re += '.';
    else if (c === '[') {
      const end = glob.indexOf(']', i + 1);
      if (end < 0) re += '\\[';
      else {
        re += `[${glob
          .slice(i + 1, end)
          .replace(/^!/, '^')
          .replace(/\\/g, '\\\\')}]`;
        i = end;
      }
    } else re += c.replace(/[.+^${}()|\\\]]/g, '\\$&');
  }
  return new RegExp(`^${re}$`);
}
