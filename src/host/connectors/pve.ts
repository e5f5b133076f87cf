// pve://NODE/VMID (with --pve-url and a token from the environment) — the Proxmox VE API's agent
// endpoints, /api2/json/nodes/{node}/qemu/{vmid}/agent/..., as qemu-server's API2/Qemu/Agent.pm
// defines them. Proxmox does the QGA framing itself; this connector maps QGA commands onto its
// endpoints and its payload conventions back onto QGA's, so the verbs above see one protocol.
import { Buffer } from 'node:buffer';
import { isObject, type JsonObject, type JsonValue } from '../../protocol/qga/json-value.js';
import type { AgentConnection, CallOptions, WholeFileAccess } from '../connection.js';
import { QgaRemoteError, TooLargeError, UnsupportedError } from '../errors.js';
import { replyPayload, replyWireLimit, WIRE_FACTOR } from '../reply-limits.js';
import type { PveHttp } from './pve-http.js';

/** The agent commands Proxmox exposes one endpoint each for, with their HTTP method (Agent.pm). */
export const PVE_AGENT_COMMANDS: Readonly<Record<string, 'GET' | 'POST'>> = {
  ping: 'POST',
  'get-time': 'GET',
  info: 'GET',
  'fsfreeze-status': 'POST',
  'fsfreeze-freeze': 'POST',
  'fsfreeze-thaw': 'POST',
  fstrim: 'POST',
  'network-get-interfaces': 'GET',
  'get-vcpus': 'GET',
  'get-fsinfo': 'GET',
  'get-memory-blocks': 'GET',
  'get-memory-block-info': 'GET',
  'suspend-hybrid': 'POST',
  'suspend-ram': 'POST',
  'suspend-disk': 'POST',
  shutdown: 'POST',
  'get-host-name': 'GET',
  'get-osinfo': 'GET',
  'get-users': 'GET',
  'get-timezone': 'GET',
};

/** Proxmox's file-read stops at 16 MiB; file-write takes at most 60 KiB of (base64) content. */
const MAX_READ = 16 << 20;
const MAX_WRITE_B64 = 60 * 1024;

// Proxmox decodes exec output and file content from base64 and sends the bytes as JSON string
// characters U+0000..U+00FF (Perl byte strings through a UTF-8 JSON encoder): latin1 gets them back.
const bytesOf = (s: JsonValue | undefined): Buffer => Buffer.from(typeof s === 'string' ? s : '', 'latin1');

export class PveConnection implements AgentConnection {
  readonly limits = { readChunk: 1 << 20, writeChunk: 45 << 10 };
  readonly wholeFile: WholeFileAccess;
  private readonly base: string;

  constructor(
    readonly address: string,
    readonly node: string,
    readonly vmid: number,
    private readonly http: PveHttp,
  ) {
    this.base = `/nodes/${encodeURIComponent(node)}/qemu/${vmid}`;
    this.wholeFile = {
      maxRead: MAX_READ,
      maxWrite: Math.floor((MAX_WRITE_B64 / 4) * 3),
      read: async (path, opts) => {
        const payload = Math.min(MAX_READ, opts?.maxPayloadBytes ?? MAX_READ);
        const d = await this.http.request(
          'GET',
          `${this.base}/agent/file-read`,
          { file: path },
          opts?.timeoutMs ?? 60_000,
          replyWireLimit(payload, WIRE_FACTOR.pve),
        );
        if (!isObject(d)) throw new QgaRemoteError('GenericError', 'file-read: unexpected reply from Proxmox VE');
        const data = bytesOf(d.content);
        if (data.length > payload)
          throw new TooLargeError(`file-read: Proxmox VE returned ${data.length} bytes of ${path}, more than ${payload}`);
        return { data, truncated: d.truncated === 1 || d.truncated === true };
      },
      write: async (path, data, opts) => {
        const b64 = data.toString('base64');
        if (b64.length > MAX_WRITE_B64)
          throw new UnsupportedError(
            `the Proxmox VE API writes at most ${this.wholeFile.maxWrite} bytes per file (agent/file-write, 60 KiB of base64); use a unix: or libvirt: address for larger files`,
          );
        // encode=0: the content is already base64, so binary data survives the JSON body.
        await this.http.request(
          'POST',
          `${this.base}/agent/file-write`,
          { file: path, content: b64, encode: 0 },
          opts?.timeoutMs ?? 60_000,
        );
      },
    };
  }

  get name(): string {
    return `${this.node}-${this.vmid}`;
  }

  async call(execute: string, args: JsonObject = {}, opts: CallOptions = {}): Promise<JsonValue> {
    const timeoutMs = opts.timeoutMs ?? 30_000;
    const short = execute.replace(/^guest-/, '');
    switch (execute) {
      case 'guest-sync':
      case 'guest-sync-delimited':
        // Proxmox synchronises on every request itself; echo like an agent would.
        return args.id ?? null;
      case 'guest-shutdown': {
        const mode = typeof args.mode === 'string' ? args.mode : 'powerdown';
        // Proxmox's agent/shutdown takes no mode; its status/reboot shuts the guest down (through the
        // agent when one is configured) and starts it again.
        if (mode === 'reboot') {
          await this.http.request('POST', `${this.base}/status/reboot`, {}, timeoutMs);
          return null;
        }
        if (mode !== 'powerdown') throw new UnsupportedError(`the Proxmox VE API has no guest-shutdown mode "${mode}"`);
        await this.http.request('POST', `${this.base}/agent/shutdown`, {}, timeoutMs);
        return null;
      }
      case 'guest-exec': {
        if (args.env !== undefined) throw new UnsupportedError('the Proxmox VE API does not pass an environment to guest-exec');
        const command = [String(args.path), ...((args.arg as string[] | undefined) ?? [])];
        const body: JsonObject = { command };
        if (typeof args['input-data'] === 'string') body['input-data'] = Buffer.from(args['input-data'], 'base64').toString('latin1');
        return this.http.request('POST', `${this.base}/agent/exec`, body, timeoutMs);
      }
      case 'guest-exec-status': {
        const limit = replyWireLimit(replyPayload(execute, args, opts.maxPayloadBytes), WIRE_FACTOR.pve);
        const d = await this.http.request('GET', `${this.base}/agent/exec-status`, { pid: args.pid }, timeoutMs, limit);
        if (!isObject(d)) return d;
        // Back to QGA's shape: booleans (Proxmox sends 1/0) and base64 output.
        const out: JsonObject = {};
        for (const [k, v] of Object.entries(d)) {
          if (k === 'out-data' || k === 'err-data') out[k] = bytesOf(v).toString('base64');
          else if (k === 'exited' || k.endsWith('-truncated')) out[k] = v === 1 || v === true;
          else out[k] = v;
        }
        return out;
      }
    }
    const method = PVE_AGENT_COMMANDS[short];
    if (!method || Object.keys(args).length > 0) {
      const why = method ? 'with arguments' : '';
      throw new QgaRemoteError(
        'CommandNotFound',
        `The command ${execute} has not been found: the Proxmox VE API does not pass it through${why ? ` ${why}` : ''} (use a unix: or libvirt: address)`,
      );
    }
    const d = await this.http.request(method, `${this.base}/agent/${short}`, {}, timeoutMs);
    return isObject(d) && 'result' in d ? (d.result as JsonValue) : d;
  }

  close(): void {}
}

/** Running VMs on a node, for fleet mode. */
export async function listNodeVms(http: PveHttp, node: string): Promise<number[]> {
  const d = await http.request('GET', `/nodes/${encodeURIComponent(node)}/qemu`);
  if (!Array.isArray(d)) return [];
  return d.filter((v) => isObject(v) && v.status === 'running').map((v) => Number((v as JsonObject).vmid));
}

/** VMs (type qemu) in a pool, with their node, for fleet mode. */
export async function listPoolVms(http: PveHttp, pool: string): Promise<{ node: string; vmid: number }[]> {
  const d = await http.request('GET', `/pools/${encodeURIComponent(pool)}`);
  const members = isObject(d) && Array.isArray(d.members) ? d.members : [];
  return members
    .filter((m) => isObject(m) && m.type === 'qemu' && (m.status === undefined || m.status === 'running'))
    .map((m) => ({ node: String((m as JsonObject).node), vmid: Number((m as JsonObject).vmid) }));
}
