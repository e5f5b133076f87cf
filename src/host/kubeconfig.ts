// Fetch a cluster's admin kubeconfig from a VM without SSH: look in the places KubeSolo, k3s,
// kubeadm (and RKE2, k0s) write it, read it with guest-file-read when the agent allows that and
// with guest-exec of /bin/cat otherwise, optionally wait until it exists (the cluster is still
// installing), point the server at an address the host can reach, and write it 0600 or merge it.
import { randomBytes } from 'node:crypto';
import { chmod, mkdir, open, readFile, rename, rm } from 'node:fs/promises';
import { isIP } from 'node:net';
import path from 'node:path';
import YAML from 'yaml';
import { isObject, type JsonValue } from '../protocol/qga/json-value.js';
import type { AgentConnection, CallOptions } from './connection.js';
import { AgentUnreachableError, QgaRemoteError, QgaTimeoutError } from './errors.js';
import { execInGuest } from './exec.js';
import { readGuestFile } from './files.js';
import { guestAddresses } from './info.js';

/** Where each distribution writes its admin kubeconfig, tried in this order. */
export const KUBECONFIG_PATHS: readonly { distro: string; path: string }[] = [
  { distro: 'kubesolo', path: '/var/lib/kubesolo/pki/admin/admin.kubeconfig' },
  { distro: 'k3s', path: '/etc/rancher/k3s/k3s.yaml' },
  { distro: 'kubeadm', path: '/etc/kubernetes/admin.conf' },
  { distro: 'rke2', path: '/etc/rancher/rke2/rke2.yaml' },
  { distro: 'k0s', path: '/var/lib/k0s/pki/admin.conf' },
];

export interface FetchOptions extends CallOptions {
  /** Look only here (--path). */
  paths?: readonly string[];
  /** Keep looking until this deadline (ms from now); absent: look once. */
  waitMs?: number;
  /** Pause between rounds while waiting (ms, default 2000). */
  pollMs?: number;
  /** Told about each round while waiting (for a progress indicator). */
  onWait?: (elapsedMs: number, round: number) => void;
}

export interface Fetched {
  path: string;
  distro: string;
  text: string;
  via: 'file-read' | 'exec';
}

type Attempt = { found: Fetched } | { missing: true } | { denied: string };

const MISSING = /No such file|does not exist|not found|ENOENT/i;

/** Which of guest-file-open and guest-exec the agent has enabled (from guest-info). */
export async function enabledCommands(conn: AgentConnection, opts: CallOptions = {}): Promise<Set<string>> {
  const info = await conn.call('guest-info', undefined, opts);
  const list = isObject(info) && Array.isArray(info.supported_commands) ? info.supported_commands : [];
  return new Set(list.filter((c) => isObject(c) && c.enabled === true).map((c) => String((c as { name: JsonValue }).name)));
}

async function tryFileRead(conn: AgentConnection, file: string, distro: string, opts: CallOptions): Promise<Attempt> {
  try {
    return { found: { path: file, distro, text: (await readGuestFile(conn, file, opts)).toString('utf8'), via: 'file-read' } };
  } catch (err) {
    if (!(err instanceof QgaRemoteError)) throw err;
    if (MISSING.test(err.desc) && !/not allowed|disabled/.test(err.desc)) return { missing: true };
    return { denied: err.desc };
  }
}

async function tryCat(conn: AgentConnection, file: string, distro: string, opts: CallOptions): Promise<Attempt> {
  try {
    const r = await execInGuest(conn, { path: '/bin/cat', args: [file] }, { ...opts, deadlineMs: 60_000 });
    if (r.exitCode === 0) return { found: { path: file, distro, text: r.stdout.toString('utf8'), via: 'exec' } };
    const why = r.stderr.toString('utf8').trim();
    if (MISSING.test(why)) return { missing: true };
    return { denied: `/bin/cat ${file}: ${why || `exit ${r.exitCode ?? `signal ${r.signal}`}`}` };
  } catch (err) {
    if (err instanceof QgaRemoteError) return { denied: err.desc };
    throw err;
  }
}

/** Finds and reads the kubeconfig; with waitMs, keeps trying until it appears. */
export async function fetchKubeconfig(conn: AgentConnection, opts: FetchOptions = {}): Promise<Fetched> {
  const candidates = opts.paths?.length ? opts.paths.map((p) => ({ distro: 'custom', path: p })) : KUBECONFIG_PATHS;
  const enabled = await enabledCommands(conn, opts);
  // Proxmox reads files through its own file-read endpoint, which guest-info does not show.
  const canRead = enabled.has('guest-file-open') && enabled.has('guest-file-read');
  const canExec = enabled.has('guest-exec') && enabled.has('guest-exec-status');
  if (!canRead && !canExec)
    throw new QgaRemoteError(
      'CommandNotFound',
      'the agent allows neither guest-file-read nor guest-exec: enable one (guestlink-agent --allow-file-read PATH)',
    );
  const t0 = Date.now();
  const deadline = opts.waitMs !== undefined ? t0 + opts.waitMs : t0;
  const denials: string[] = [];
  for (let round = 1; ; round++) {
    denials.length = 0;
    for (const c of candidates) {
      let a: Attempt = { denied: 'guest-file-read is disabled' };
      if (canRead) a = await tryFileRead(conn, c.path, c.distro, opts);
      if ('denied' in a && canExec) {
        denials.push(a.denied);
        a = await tryCat(conn, c.path, c.distro, opts);
      }
      if ('found' in a) return a.found;
      if ('denied' in a) denials.push(a.denied);
    }
    if (Date.now() >= deadline) break;
    opts.onWait?.(Date.now() - t0, round);
    await new Promise((r) => setTimeout(r, Math.min(opts.pollMs ?? 2000, Math.max(0, deadline - Date.now()))));
  }
  const where = candidates.map((c) => c.path).join(', ');
  if (denials.length > 0)
    throw new QgaRemoteError('GenericError', `cannot read the kubeconfig (${where}): ${[...new Set(denials)].join('; ')}`);
  if (opts.waitMs !== undefined)
    throw new QgaTimeoutError(`no kubeconfig appeared within ${Math.round(opts.waitMs / 1000)} s (looked at ${where})`);
  throw new QgaRemoteError('GenericError', `no kubeconfig found (looked at ${where}); pass --path, or --wait while the cluster installs`);
}

const LOOPBACK = /^(127\.|0\.0\.0\.0$|localhost$|::1?$)/;

/** The address to reach the VM at: its first global IPv4 (else IPv6) on a non-virtual interface. */
export async function vmAddress(conn: AgentConnection, opts: CallOptions = {}): Promise<string> {
  const all = await guestAddresses(conn, opts);
  const usable = all.filter((a) => !LOOPBACK.test(a.ip) && !a.ip.startsWith('169.254.') && !a.ip.toLowerCase().startsWith('fe80'));
  const pick = usable.find((a) => a.type === 'ipv4') ?? usable[0];
  if (!pick) throw new AgentUnreachableError('the VM reports no usable IP address: pass --api-server');
  return pick.ip;
}

export interface RewriteResult {
  text: string;
  /** [old, new] per rewritten cluster. */
  changed: [string, string][];
}

function withHost(server: string, host: string): string {
  const u = new URL(server);
  u.hostname = isIP(host) === 6 ? `[${host}]` : host;
  return u.toString().replace(/\/$/, '');
}

/**
 * Points every cluster's server at `apiServer` (a URL, or a host that keeps the port) when given;
 * otherwise only loopback servers (127.0.0.1, localhost, ::1, 0.0.0.0: what KubeSolo and k3s write)
 * are pointed at `vmIp`: an address that already names a reachable endpoint (kubeadm's) is kept.
 */
export function rewriteServer(text: string, opts: { apiServer?: string; vmIp?: string }): RewriteResult {
  const doc = YAML.parse(text) as { clusters?: { cluster?: { server?: string } }[] } | null;
  if (!doc || !Array.isArray(doc.clusters)) throw new QgaRemoteError('GenericError', 'the file read is not a kubeconfig (no clusters)');
  const changed: [string, string][] = [];
  for (const c of doc.clusters) {
    const old = c.cluster?.server;
    if (!c.cluster || typeof old !== 'string') continue;
    let next: string | undefined;
    if (opts.apiServer) next = /^https?:\/\//.test(opts.apiServer) ? opts.apiServer.replace(/\/$/, '') : withHost(old, opts.apiServer);
    else if (opts.vmIp && LOOPBACK.test(new URL(old).hostname.replace(/^\[|\]$/g, ''))) next = withHost(old, opts.vmIp);
    if (next && next !== old) {
      c.cluster.server = next;
      changed.push([old, next]);
    }
  }
  return { text: changed.length ? YAML.stringify(doc) : text, changed };
}

type Named = { name?: string; [k: string]: unknown };
type Kubeconfig = {
  clusters?: Named[];
  users?: Named[];
  contexts?: (Named & { context?: { cluster?: string; user?: string } })[];
  'current-context'?: string;
  [k: string]: unknown;
};

/** Renames the (usually single, "default") cluster, user and context to `name`, keeping references consistent. */
export function renameEntries(text: string, name: string): string {
  const doc = YAML.parse(text) as Kubeconfig;
  const many = (l?: Named[]) => (l?.length ?? 0) > 1;
  const rn = (old: string | undefined, list?: Named[]) => (many(list) ? `${name}-${old}` : name);
  const cmap = new Map<string, string>();
  const umap = new Map<string, string>();
  for (const c of doc.clusters ?? []) cmap.set(String(c.name), rn(c.name, doc.clusters));
  for (const u of doc.users ?? []) umap.set(String(u.name), rn(u.name, doc.users));
  for (const c of doc.clusters ?? []) c.name = cmap.get(String(c.name));
  for (const u of doc.users ?? []) u.name = umap.get(String(u.name));
  const xmap = new Map<string, string>();
  for (const x of doc.contexts ?? []) {
    const nn = rn(x.name, doc.contexts);
    xmap.set(String(x.name), nn);
    x.name = nn;
    if (x.context?.cluster) x.context.cluster = cmap.get(x.context.cluster) ?? x.context.cluster;
    if (x.context?.user) x.context.user = umap.get(x.context.user) ?? x.context.user;
  }
  if (doc['current-context']) doc['current-context'] = xmap.get(doc['current-context']) ?? doc['current-context'];
  return YAML.stringify(doc);
}

/** Merges `incoming` into `existing` (entries with the same name are replaced); sets current-context when asked or when none is set. */
export function mergeKubeconfig(existing: string, incoming: string, opts: { setCurrent?: boolean } = {}): string {
  const a = (YAML.parse(existing) ?? {}) as Kubeconfig;
  const b = YAML.parse(incoming) as Kubeconfig;
  for (const key of ['clusters', 'users', 'contexts'] as const) {
    const list = [...((a[key] as Named[] | undefined) ?? [])];
    for (const e of (b[key] as Named[] | undefined) ?? []) {
      const i = list.findIndex((x) => x.name === e.name);
      if (i >= 0) list[i] = e;
      else list.push(e);
    }
    (a as Record<string, unknown>)[key] = list;
  }
  a.apiVersion ??= 'v1';
  a.kind ??= 'Config';
  if (b['current-context'] && (opts.setCurrent || !a['current-context'])) a['current-context'] = b['current-context'];
  return YAML.stringify(a);
}

/** Writes a kubeconfig with mode 0600 (via a temporary file and rename, so readers never see half). */
export async function writeKubeconfig(file: string, text: string): Promise<void> {
  await mkdir(path.dirname(file), { recursive: true, mode: 0o700 });
  const tmp = `${file}.guestlink-${randomBytes(4).toString('hex')}`;
  const fh = await open(tmp, 'wx', 0o600);
  try {
    await fh.writeFile(text);
    await fh.sync();
  } finally {
    await fh.close();
  }
  try {
    await chmod(tmp, 0o600);
    await rename(tmp, file);
  } catch (err) {
    await rm(tmp, { force: true });
    throw err;
  }
}

/** The existing kubeconfig's text, or '' when there is none. */
export async function readLocalKubeconfig(file: string): Promise<string> {
  return readFile(file, 'utf8').catch((err: NodeJS.ErrnoException) => {
    if (err.code === 'ENOENT') return '';
    throw err;
  });
}
