// Fetch a cluster's admin kubeconfig from a VM without SSH: look in the places KubeSolo, k3s,
// kubeadm (and RKE2, k0s) write it, read it with guest-file-read when the agent allows that and
// with guest-exec of /bin/cat otherwise, optionally wait until it exists (the cluster is still
// installing). The text is the guest's: at most maxBytes are read (the read stops there, nothing
// more is buffered), and it must be UTF-8; what it says is judged by allow-list.ts.
import { isIP } from 'node:net';
import { isObject, type JsonValue } from '../../protocol/qga/json-value.js';
import type { AgentConnection, CallOptions } from '../connection.js';
import { AgentUnreachableError, QgaRemoteError, QgaTimeoutError, TooLargeError, UnsafeKubeconfigError } from '../errors.js';
import { execInGuest } from '../exec.js';
import { readGuestFile } from '../guest-file.js';
import { guestAddresses } from '../info.js';

/** Where each distribution writes its admin kubeconfig, tried in this order. */
export const KUBECONFIG_PATHS: readonly { distro: string; path: string }[] = [
  { distro: 'kubesolo', path: '/var/lib/kubesolo/pki/admin/admin.kubeconfig' },
  { distro: 'k3s', path: '/etc/rancher/k3s/k3s.yaml' },
  { distro: 'kubeadm', path: '/etc/kubernetes/admin.conf' },
  { distro: 'rke2', path: '/etc/rancher/rke2/rke2.yaml' },
  { distro: 'k0s', path: '/var/lib/k0s/pki/admin.conf' },
];

/** The default bound on the fetched file (a kubeconfig is a few KiB; --max-bytes raises it). */
export const KUBECONFIG_MAX_BYTES = 1 << 20;

export interface FetchOptions extends CallOptions {
  /** The most bytes read (default KUBECONFIG_MAX_BYTES). */
  maxBytes?: number;
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

const tooLarge = (file: string, max: number) =>
  new TooLargeError(`${file} in the guest is larger than ${max} bytes (--max-bytes); stopped reading it, nothing was written`);

/** The guest's bytes as text; a kubeconfig is UTF-8, anything else is refused rather than guessed at. */
function utf8(file: string, b: Buffer): string {
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(b);
  } catch {
    throw new UnsafeKubeconfigError(`${file} in the guest is not UTF-8 text; nothing was written`);
  }
}

async function tryFileRead(conn: AgentConnection, file: string, distro: string, max: number, opts: CallOptions): Promise<Attempt> {
  try {
    const data = await readGuestFile(conn, file, { limit: max, tooLarge: () => tooLarge(file, max) }, opts);
    return { found: { path: file, distro, text: utf8(file, data), via: 'file-read' } };
  } catch (err) {
    if (!(err instanceof QgaRemoteError)) throw err;
    if (MISSING.test(err.desc) && !/not allowed|disabled/.test(err.desc)) return { missing: true };
    return { denied: err.desc };
  }
}

async function tryCat(conn: AgentConnection, file: string, distro: string, max: number, opts: CallOptions): Promise<Attempt> {
  try {
    const r = await execInGuest(conn, { path: '/bin/cat', args: [file] }, { ...opts, deadlineMs: 60_000, maxOutputBytes: max }).catch(
      (err: unknown) => {
        throw err instanceof TooLargeError ? tooLarge(file, max) : err;
      },
    );
    if (r.exitCode === 0) return { found: { path: file, distro, text: utf8(file, r.stdout), via: 'exec' } };
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
  const max = opts.maxBytes ?? KUBECONFIG_MAX_BYTES;
  const t0 = Date.now();
  const deadline = opts.waitMs !== undefined ? t0 + opts.waitMs : t0;
  const denials: string[] = [];
  for (let round = 1; ; round++) {
    denials.length = 0;
    for (const c of candidates) {
      let a: Attempt = { denied: 'guest-file-read is disabled' };
      if (canRead) a = await tryFileRead(conn, c.path, c.distro, max, opts);
      if ('denied' in a && canExec) {
        denials.push(a.denied);
        a = await tryCat(conn, c.path, c.distro, max, opts);
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
  // The addresses are the guest's word: only a well-formed IP may go into the server URL.
  const usable = all.filter(
    (a) => isIP(a.ip) !== 0 && !LOOPBACK.test(a.ip) && !a.ip.startsWith('169.254.') && !a.ip.toLowerCase().startsWith('fe80'),
  );
  const pick = usable.find((a) => a.type === 'ipv4') ?? usable[0];
  if (!pick) throw new AgentUnreachableError('the VM reports no usable IP address: pass --api-server');
  return pick.ip;
}
