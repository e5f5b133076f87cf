// A double of the Proxmox VE HTTP API, the agent part (qemu-server's PVE/API2/Qemu/Agent.pm and
// PVE/QemuServer/Agent.pm, pve-http-server's JSON formatter), read from their source:
//   HTTPS only (a self-signed certificate made here with openssl, as a fresh node has);
//   Authorization: PVEAPIToken=USER@REALM!TOKENID=SECRET, else 401;
//   /api2/json/nodes/{node}/qemu/{vmid}/agent/{command} for the commands of Agent.pm's table,
//   each with its own HTTP method (a wrong one is 501), answering {"data": {"result": ...}};
//   agent/exec (command as a list, input-data as plain text that Proxmox base64-encodes),
//   agent/exec-status (output base64-decoded into the JSON string, booleans as 1/0),
//   agent/file-read (1 MiB guest-file-read chunks up to 16 MiB, content decoded, truncated=1 beyond),
//   agent/file-write (content at most 60 KiB, base64-encoded by Proxmox unless encode=0; mode 'wb');
//   errors as pve-http-server sends them: the HTTP status with the message as its reason phrase and
//   {"data": null} (plus "errors" per parameter for 400);
//   /nodes/{node}/qemu (VM list), /pools/{pool} (members), /nodes/{node}/qemu/{vmid}/status/reboot.
// Behind it, each VM is a real agent socket, spoken to the way qemu-server's QMPClient does (as
// test/doubles/pve-client.ts does too: a new connection per command, one write holding
// guest-sync-delimited and the command, the reply pair matched by QMPClient's regex). Here the regex
// runs only once both reply lines are complete, so that 1 MiB file-read replies do not cost a rescan
// per received chunk; what is accepted is the same.
// Simplifications, said plainly: no tickets/CSRF (tokens only), no permission model beyond
// "token valid", status/reboot only forwards guest-shutdown (no VM restart happens), and a
// guest-shutdown without EOF is taken as accepted after `shutdownWaitMs` (Proxmox waits 10 min).
import https from 'node:https';
import net from 'node:net';
import { selfSignedCert } from './tls.js';

/**
 * Agent.pm's command table: one endpoint each, with its method. Written again from Agent.pm on purpose, not
 * imported from src/host/connectors/pve.ts: a wrong method there must fail against this double.
 */
const AGENT_COMMANDS: Record<string, 'GET' | 'POST'> = {
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

export interface PveVm {
  node: string;
  vmid: number;
  /** The agent's socket; absent: the VM is stopped. */
  socket?: string;
  name?: string;
  pool?: string;
}

export interface PveApiOptions {
  /** Directory for the key and certificate. */
  dir: string;
  vms: PveVm[];
  /** The one valid token, USER@REALM!TOKENID=SECRET. */
  token: string;
  shutdownWaitMs?: number;
}

export interface PveApiDouble {
  /** https://127.0.0.1:PORT */
  url: string;
  /** The self-signed certificate (PEM), to pass as --ca. */
  caFile: string;
  /** Every request seen: method, path (without /api2/json) and query. */
  requests: { method: string; path: string; query: string }[];
  stop(): Promise<void>;
}

let seq = 0;
const ALLOW_CLOSE = new Set(['guest-shutdown', 'guest-suspend-ram', 'guest-suspend-disk', 'guest-suspend-hybrid']);

/** One agent command as QMPClient sends it; resolves with the parsed reply, or undefined for EOF after the sync reply (shutdown). */
function qmp(
  socket: string,
  execute: string,
  args: Record<string, unknown>,
  timeoutS: number,
): Promise<{ return?: unknown; error?: { class: string; desc: string } } | undefined> {
  const id = Number(`${process.pid}${++seq}`);
  return new Promise((resolve, reject) => {
    const sock = net.createConnection(socket);
    const parts: Buffer[] = [];
    let newlines = 0;
    const timer = setTimeout(() => {
      sock.destroy();
      reject(new Error(`got timeout`));
    }, timeoutS * 1000);
    const finish = (err: Error | undefined, v?: { return?: unknown; error?: { class: string; desc: string } }) => {
      clearTimeout(timer);
      sock.destroy();
      if (err) reject(err);
      else resolve(v);
    };
    sock.on('connect', () =>
      sock.write(
        `${JSON.stringify({ execute: 'guest-sync-delimited', arguments: { id } })}\n${JSON.stringify({ execute, arguments: args })}\n`,
      ),
    );
    sock.on('data', (chunk: Buffer) => {
      parts.push(chunk);
      for (const b of chunk) if (b === 0x0a) newlines++;
      if (newlines < 2) return;
      const text = Buffer.concat(parts).toString('latin1');
      const m = /\xff([^\n]+}\r?\n[^\n]+})\r?\n/s.exec(text);
      if (!m) return;
      const [syncLine, replyLine] = (m[1] as string).split('\n') as [string, string];
      if (JSON.parse(syncLine).return !== id) return finish(new Error('got wrong command id'));
      finish(undefined, JSON.parse(Buffer.from(replyLine, 'latin1').toString('utf8')));
    });
    sock.on('close', () => {
      const text = Buffer.concat(parts).toString('latin1');
      if (ALLOW_CLOSE.has(execute) && /\xff[^\n]+}\r?\n/.test(text)) finish(undefined, undefined);
      else finish(new Error('client closed connection'));
    });
    sock.on('error', (err) => finish(err));
  });
}

class ApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly errors?: Record<string, string>,
  ) {
    super(message);
  }
}

const latin1 = (b64: unknown) => Buffer.from(typeof b64 === 'string' ? b64 : '', 'base64').toString('latin1');

export async function startPveApi(opts: PveApiOptions): Promise<PveApiDouble> {
  const { key, cert, certFile } = selfSignedCert(opts.dir, 'pve-ssl', 'pve-double');
  const requests: PveApiDouble['requests'] = [];
  const shutdownWaitMs = opts.shutdownWaitMs ?? 2000;

  const vmOf = (node: string, vmid: string): PveVm & { socket: string } => {
    const vm = opts.vms.find((v) => v.node === node && String(v.vmid) === vmid);
    if (!vm) throw new ApiError(500, `Configuration file 'nodes/${node}/qemu-server/${vmid}.conf' does not exist`);
    if (!vm.socket) throw new ApiError(500, `VM ${vmid} is not running`);
    return vm as PveVm & { socket: string };
  };

  /** One agent command the way qemu-server sends it; `agentError` picks Agent.pm's wording for agent_cmd. */
  const agent = async (vm: PveVm & { socket: string }, execute: string, args: Record<string, unknown> = {}, agentError = true) => {
    let r: Awaited<ReturnType<typeof qmp>>;
    try {
      r = await qmp(vm.socket, execute, args, execute === 'guest-shutdown' ? shutdownWaitMs / 1000 : 10);
    } catch (err) {
      const m = (err as Error).message;
      if (execute === 'guest-shutdown' && /timeout/.test(m)) return null;
      if (/ENOENT|ECONNREFUSED/.test(m)) throw new ApiError(500, 'QEMU guest agent is not running');
      throw new ApiError(500, `VM ${vm.vmid} qmp command '${execute}' failed - ${m}`);
    }
    const e = r?.error;
    if (e) throw new ApiError(500, agentError ? `Agent error: ${e.desc}` : `VM ${vm.vmid} qmp command '${execute}' failed - ${e.desc}`);
    return r?.return ?? null;
  };

  const route = async (method: string, p: string, q: URLSearchParams, body: Record<string, unknown>): Promise<unknown> => {
    let m = /^\/nodes\/([^/]+)\/qemu$/.exec(p);
    if (m && method === 'GET')
      return opts.vms
        .filter((v) => v.node === m?.[1])
        .map((v) => ({ vmid: v.vmid, name: v.name ?? `vm${v.vmid}`, status: v.socket ? 'running' : 'stopped' }));
    m = /^\/pools\/([^/]+)$/.exec(p);
    if (m && method === 'GET') {
      const pool = decodeURIComponent(m[1] as string);
      const members = opts.vms.filter((v) => v.pool === pool);
      if (members.length === 0) throw new ApiError(500, `pool '${pool}' does not exist`);
      return {
        comment: '',
        members: members.map((v) => ({
          id: `qemu/${v.vmid}`,
          type: 'qemu',
          node: v.node,
          vmid: v.vmid,
          name: v.name ?? `vm${v.vmid}`,
          status: v.socket ? 'running' : 'stopped',
        })),
      };
    }
    m = /^\/nodes\/([^/]+)\/qemu\/(\d+)\/status\/reboot$/.exec(p);
    if (m) {
      if (method !== 'POST') throw new ApiError(501, `Method '${method} ${p}' not implemented`);
      const vm = vmOf(m[1] as string, m[2] as string);
      await agent(vm, 'guest-shutdown', {});
      return `UPID:${vm.node}:00001234:00005678:00000000:qmreboot:${vm.vmid}:token@pve!double:`;
    }
    m = /^\/nodes\/([^/]+)\/qemu\/(\d+)\/agent\/([a-z-]+)$/.exec(p);
    if (!m) throw new ApiError(501, `Method '${method} ${p}' not implemented`);
    const cmd = m[3] as string;
    const vm = vmOf(m[1] as string, m[2] as string);
    const want = AGENT_COMMANDS[cmd] ?? { exec: 'POST', 'exec-status': 'GET', 'file-read': 'GET', 'file-write': 'POST' }[cmd];
    if (!want || want !== method) throw new ApiError(501, `Method '${method} ${p}' not implemented`);
    switch (cmd) {
      case 'exec': {
        const c = body.command;
        const list = Array.isArray(c) ? c.map(String) : typeof c === 'string' ? c.split(/\0|[;,\s]+/).filter(Boolean) : [];
        if (list.length === 0)
          throw new ApiError(400, 'Parameter verification failed.', { command: 'property is missing and it is not optional' });
        const args: Record<string, unknown> = { path: list[0], arg: list.slice(1), 'capture-output': true };
        if (typeof body['input-data'] === 'string') {
          const s = body['input-data'];
          if ([...s].some((ch) => (ch.codePointAt(0) as number) > 255)) throw new ApiError(500, 'Wide character in subroutine entry');
          args['input-data'] = Buffer.from(s, 'latin1').toString('base64');
        }
        return agent(vm, 'guest-exec', args);
      }
      case 'exec-status': {
        const pid = Number(q.get('pid'));
        if (!q.get('pid') || !Number.isInteger(pid))
          throw new ApiError(400, 'Parameter verification failed.', { pid: "type check ('integer') failed" });
        const r = (await agent(vm, 'guest-exec-status', { pid })) as Record<string, unknown>;
        const out: Record<string, unknown> = {};
        for (const [k, v] of Object.entries(r)) {
          if (k === 'out-data' || k === 'err-data') out[k] = latin1(v);
          else out[k] = typeof v === 'boolean' ? (v ? 1 : 0) : v;
        }
        return out;
      }
      case 'file-read': {
        const file = q.get('file');
        if (!file) throw new ApiError(400, 'Parameter verification failed.', { file: 'property is missing and it is not optional' });
        const handle = await agent(vm, 'guest-file-open', { path: file });
        const max = 16 << 20;
        let left = max;
        let eof = false;
        const parts: Buffer[] = [];
        while (left > 0 && !eof) {
          const r = (await agent(vm, 'guest-file-read', { handle, count: 1 << 20 })) as { count: number; 'buf-b64': string; eof: boolean };
          parts.push(Buffer.from(r['buf-b64'], 'base64'));
          left -= r.count;
          eof = r.eof;
        }
        await agent(vm, 'guest-file-close', { handle }).catch(() => {});
        const res: Record<string, unknown> = { content: Buffer.concat(parts).toString('latin1'), 'bytes-read': max - left };
        if (!eof) res.truncated = 1;
        return res;
      }
      case 'file-write': {
        const file = body.file;
        const content = body.content;
        if (typeof file !== 'string' || typeof content !== 'string')
          throw new ApiError(400, 'Parameter verification failed.', {
            [typeof file !== 'string' ? 'file' : 'content']: 'property is missing and it is not optional',
          });
        if (content.length > 60 * 1024)
          throw new ApiError(400, 'Parameter verification failed.', { content: 'value may only be 61440 characters long' });
        const encode = !(body.encode === 0 || body.encode === false || body.encode === '0');
        const b64 = encode ? Buffer.from(content, 'latin1').toString('base64') : content;
        const handle = await agent(vm, 'guest-file-open', { path: file, mode: 'wb' });
        await agent(vm, 'guest-file-write', { handle, 'buf-b64': b64 });
        await agent(vm, 'guest-file-close', { handle });
        return null;
      }
    }
    // register_command endpoints: mon_cmd, errors worded by the monitor layer.
    return { result: await agent(vm, `guest-${cmd}`, {}, false) };
  };

  const server = https.createServer({ key, cert }, (req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', async () => {
      const url = new URL(req.url ?? '/', 'https://x');
      const p = url.pathname.replace(/^\/api2\/json/, '');
      requests.push({ method: req.method ?? '', path: p, query: url.search });
      const send = (status: number, message: string, payload: unknown) => {
        const text = JSON.stringify(payload);
        res.writeHead(status, message.replace(/[\r\n]+/g, ' ').trim(), {
          'Content-Type': 'application/json;charset=UTF-8',
          'Content-Length': Buffer.byteLength(text),
        });
        res.end(text);
      };
      try {
        if (!url.pathname.startsWith('/api2/json/')) throw new ApiError(501, `Method '${req.method} ${url.pathname}' not implemented`);
        const auth = /^PVEAPIToken=([^@\s]+@[^!\s]+![^=\s]+)=(\S+)$/.exec(req.headers.authorization ?? '');
        if (!auth) throw new ApiError(401, 'No ticket');
        if (`${auth[1]}=${auth[2]}` !== opts.token) throw new ApiError(401, 'authentication failure');
        let body: Record<string, unknown> = {};
        const raw = Buffer.concat(chunks).toString('utf8');
        if (raw) {
          body = /json/.test(req.headers['content-type'] ?? '') ? JSON.parse(raw) : Object.fromEntries(new URLSearchParams(raw));
        }
        const data = await route(req.method ?? 'GET', p, url.searchParams, body);
        send(200, 'OK', { data });
      } catch (err) {
        if (err instanceof ApiError) send(err.status, err.message, err.errors ? { data: null, errors: err.errors } : { data: null });
        else send(500, (err as Error).message, { data: null });
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as net.AddressInfo).port;
  return {
    url: `https://127.0.0.1:${port}`,
    caFile: certFile,
    requests,
    stop: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
