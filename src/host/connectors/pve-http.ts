// A small client for the Proxmox VE HTTP API (/api2/json): API-token auth, TLS verified by default,
// the {"data": ...} envelope, and its errors (HTTP status + message) mapped to the toolkit's classes.
import https from 'node:https';
import { JsonStreamReader } from '../../protocol/qga/json-stream.js';
import { isObject, type JsonObject, type JsonValue, writeJson } from '../../protocol/qga/json-value.js';
import { AgentUnreachableError, QgaRemoteError, QgaTimeoutError, TooLargeError, UnsupportedError } from '../errors.js';
import { MAX_PLAIN_REPLY } from '../reply-limits.js';

export interface PveOptions {
  /** https://host:8006 (the /api2/json prefix is added). */
  url: string;
  /** USER@REALM!TOKENID=SECRET (sent as `Authorization: PVEAPIToken=...`). */
  token: string;
  /** PEM certificate(s) to trust instead of the system store (a self-signed node certificate). */
  ca?: string | Buffer;
  /** Skip certificate verification (only for a lab; says so on stderr in the CLI). */
  insecure?: boolean;
}

/**
 * Small replies go through the protocol's lossless reader (guest-get-time's nanoseconds exceed 2^53);
 * large ones (file-read content: Proxmox sends bytes as \u00XX-escaped characters, up to ~100 MB of
 * JSON for 16 MiB) through JSON.parse, which is ~100x faster there and meets no big integers.
 */
function parseLossless(text: string): JsonValue {
  if (text.length > 1 << 20) return JSON.parse(text) as JsonValue;
  let out: JsonValue | undefined;
  let error: string | undefined;
  const r = new JsonStreamReader((ev) => {
    if ('error' in ev) error ??= ev.error;
    else out ??= ev.value;
  });
  r.feed(Buffer.from(`${text} `));
  if (out === undefined) throw new AgentUnreachableError(`the Proxmox VE API sent no JSON (${error ?? 'empty body'})`);
  return out;
}

/** Maps a failed API call to an error class; Proxmox puts the reason in the status line and `message`. */
export function mapPveError(status: number, message: string, errors?: JsonValue): Error {
  const msg = message.trim();
  if (status === 401)
    return new AgentUnreachableError(`authentication failed (HTTP 401 ${msg}): check the API token (PVE_TOKEN=USER@REALM!TOKENID=SECRET)`);
  if (status === 403)
    return new AgentUnreachableError(
      `permission denied (HTTP 403 ${msg}): the token needs VM.GuestAgent.* (PVE 9) or VM.Monitor on the VM`,
    );
  if (status === 400) {
    const detail = isObject(errors)
      ? Object.entries(errors)
          .map(([k, v]) => `${k}: ${String(v).trim()}`)
          .join('; ')
      : '';
    return new QgaRemoteError('GenericError', `the Proxmox VE API refused the parameters: ${detail || msg}`);
  }
  if (status === 501) return new UnsupportedError(`the Proxmox VE API has no such endpoint (${msg}): is the node too old?`);
  const agent = /Agent error: (.*)$/s.exec(msg);
  if (agent) {
    const desc = (agent[1] as string).trim();
    return new QgaRemoteError(/has not been found|has been disabled/.test(desc) ? 'CommandNotFound' : 'GenericError', desc);
  }
  const qmp = /qmp command '[^']*' failed - (.*)$/s.exec(msg);
  if (qmp) {
    const desc = (qmp[1] as string).trim();
    if (/got timeout/.test(desc)) return new QgaTimeoutError(`the agent did not answer Proxmox VE in time (${desc})`);
    return new QgaRemoteError(/has not been found|has been disabled/.test(desc) ? 'CommandNotFound' : 'GenericError', desc);
  }
  return new AgentUnreachableError(`Proxmox VE API: HTTP ${status} ${msg}`);
}

/** One API endpoint set (a node's URL and a token); keeps connections alive for exec polling. */
export class PveHttp {
  private readonly agent: https.Agent;
  private readonly base: URL;

  constructor(private readonly opts: PveOptions) {
    let base: URL;
    try {
      base = new URL(opts.url);
    } catch {
      throw new AgentUnreachableError(`--pve-url "${opts.url}" is not a URL (expected https://HOST:8006)`);
    }
    if (base.protocol !== 'https:')
      throw new AgentUnreachableError(`--pve-url must be https:// (the API token must not travel in clear text)`);
    this.base = base;
    this.agent = new https.Agent({
      keepAlive: true,
      maxSockets: 8,
      rejectUnauthorized: !opts.insecure,
      ...(opts.ca ? { ca: opts.ca } : {}),
    });
  }

  /** GET with query parameters or POST with a JSON body; resolves with `data`. A body over `maxBytes` is refused. */
  request(
    method: 'GET' | 'POST',
    path: string,
    params: JsonObject = {},
    timeoutMs = 30_000,
    maxBytes = MAX_PLAIN_REPLY,
  ): Promise<JsonValue> {
    const url = new URL(`/api2/json${path}`, this.base);
    let body: string | undefined;
    if (method === 'GET') {
      for (const [k, v] of Object.entries(params)) if (v !== undefined) url.searchParams.set(k, String(v));
    } else body = writeJson(params);
    const headers: Record<string, string> = { Authorization: `PVEAPIToken=${this.opts.token}`, Accept: 'application/json' };
    if (body !== undefined) {
      headers['Content-Type'] = 'application/json';
      headers['Content-Length'] = String(Buffer.byteLength(body));
    }
    return new Promise((resolve, reject) => {
      const req = https.request(url, { method, headers, agent: this.agent, timeout: timeoutMs }, (res) => {
        const chunks: Buffer[] = [];
        let received = 0;
        res.on('data', (c: Buffer) => {
          received += c.length;
          if (received <= maxBytes) return void chunks.push(c);
          chunks.length = 0;
          req.destroy();
          reject(new TooLargeError(`Proxmox VE API: the reply to ${method} ${path} is over ${maxBytes} bytes; stopped reading it`));
        });
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          const status = res.statusCode ?? 0;
          let parsed: JsonValue | undefined;
          try {
            parsed = text ? parseLossless(text) : undefined;
          } catch {}
          if (status >= 200 && status < 300) {
            if (!isObject(parsed) || !('data' in parsed))
              return reject(new AgentUnreachableError(`Proxmox VE API: no {"data": ...} envelope in the reply to ${path}`));
            return resolve(parsed.data as JsonValue);
          }
          const message = (isObject(parsed) && typeof parsed.message === 'string' ? parsed.message : res.statusMessage) ?? '';
          reject(mapPveError(status, message, isObject(parsed) ? parsed.errors : undefined));
        });
        res.on('error', (err) => reject(new AgentUnreachableError(`Proxmox VE API: ${err.message}`)));
      });
      req.on('timeout', () => {
        req.destroy();
        reject(new QgaTimeoutError(`Proxmox VE API: no answer to ${method} ${path} within ${timeoutMs} ms`));
      });
      req.on('error', (err: NodeJS.ErrnoException) => {
        const tls =
          /certificate|self.signed|SSL|TLS/i.test(err.message) || String(err.code).startsWith('ERR_TLS') || /CERT/.test(String(err.code));
        reject(
          new AgentUnreachableError(
            tls
              ? `TLS verification of ${this.base.host} failed (${err.message}): pass the node's CA with --ca FILE (or --insecure in a lab)`
              : `cannot reach ${this.base.host}: ${err.message}`,
          ),
        );
      });
      if (body !== undefined) req.write(body);
      req.end();
    });
  }

  close(): void {
    this.agent.destroy();
  }
}
