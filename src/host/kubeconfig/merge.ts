// What happens to the allow-listed guest kubeconfig on this host: the server pointed at an address the
// host can reach, the entries renamed (--name, or the VM's name when merging), and the result written
// on its own or merged into the user's kubeconfig. A merge adds entries and changes nothing that is
// there: a name the host file already uses is never reused or replaced (the guest's entries get a
// prefix instead), and current-context changes only when asked (--set-current).
import { randomBytes } from 'node:crypto';
import { chmod, mkdir, open, readFile, rename, rm } from 'node:fs/promises';
import { isIP } from 'node:net';
import path from 'node:path';
import YAML, { isMap, isSeq } from 'yaml';
import { LocalKubeconfigError } from '../errors.js';
import type { SafeKubeconfig } from './allow-list.js';

const LOOPBACK_HOST = /^(127\.|0\.0\.0\.0$|localhost$|::1?$)/;

function withHost(server: string, host: string): string {
  const u = new URL(server);
  u.hostname = isIP(host) === 6 ? `[${host}]` : host;
  return u.toString().replace(/\/$/, '');
}

/**
 * Points every cluster's server at `apiServer` (a URL, or a host that keeps the port) when given;
 * otherwise only loopback servers (127.0.0.1, localhost, ::1, 0.0.0.0: what KubeSolo and k3s write)
 * are pointed at `vmIp`: an address that already names a reachable endpoint (kubeadm's) is kept.
 * Returns [old, new] per rewritten cluster.
 */
export function rewriteServers(config: SafeKubeconfig, opts: { apiServer?: string; vmIp?: string }): [string, string][] {
  const changed: [string, string][] = [];
  for (const { cluster } of config.clusters) {
    const old = cluster.server;
    let next: string | undefined;
    if (opts.apiServer) next = /^https?:\/\//.test(opts.apiServer) ? opts.apiServer.replace(/\/$/, '') : withHost(old, opts.apiServer);
    else if (opts.vmIp && LOOPBACK_HOST.test(new URL(old).hostname.replace(/^\[|\]$/g, ''))) next = withHost(old, opts.vmIp);
    if (next && next !== old) {
      cluster.server = next;
      changed.push([old, next]);
    }
  }
  return changed;
}

/** Applies `rename` to every entry name and every reference to one, so the file stays consistent. */
function renameWith(config: SafeKubeconfig, rename: (old: string, list: 'clusters' | 'users' | 'contexts') => string): void {
  const cmap = new Map(config.clusters.map((c) => [c.name, rename(c.name, 'clusters')]));
  const umap = new Map(config.users.map((u) => [u.name, rename(u.name, 'users')]));
  const xmap = new Map(config.contexts.map((x) => [x.name, rename(x.name, 'contexts')]));
  for (const c of config.clusters) c.name = cmap.get(c.name) as string;
  for (const u of config.users) u.name = umap.get(u.name) as string;
  for (const x of config.contexts) {
    x.name = xmap.get(x.name) as string;
    // allow-list.ts guarantees both references name entries of this file.
    x.context.cluster = cmap.get(x.context.cluster) as string;
    x.context.user = umap.get(x.context.user) as string;
  }
  const cur = config['current-context'];
  if (cur !== undefined) config['current-context'] = xmap.get(cur) as string;
}

/** Renames the (usually single, "default") cluster, user and context to `name`; with several, `name-old`. */
export function renameEntries(config: SafeKubeconfig, name: string): void {
  renameWith(config, (old, list) => (config[list].length > 1 ? `${name}-${old}` : name));
}

/** The kubeconfig as YAML, fields in kubectl's order. */
export function renderKubeconfig(config: SafeKubeconfig): string {
  return YAML.stringify({ apiVersion: 'v1', kind: 'Config', ...config });
}

export interface MergeResult {
  text: string;
  /** The prefix put before the guest's names because the host file uses one of them ('' when none). */
  prefix: string;
  /** The context made current (only with setCurrent). */
  current?: string;
  /** The guest's context names as merged. */
  contexts: string[];
}

/** Host-side names per list, read from the user's kubeconfig (trusted: it is the user's own file). */
function hostNames(doc: YAML.Document): Set<string> {
  const names = new Set<string>();
  for (const key of ['clusters', 'users', 'contexts']) {
    const list = doc.get(key);
    if (!isSeq(list)) continue;
    for (const item of list.items) if (isMap(item)) names.add(String(item.get('name')));
  }
  return names;
}

/**
 * Merges the guest's entries into the user's kubeconfig text (comments and order kept). Names already in
 * the host file are never reused: the guest's entries then get the first free prefix of `guestlink-`,
 * `guestlink-2-`, ... current-context is set only with setCurrent (the guest's current context, else its
 * first one); a host file without one does not get one otherwise.
 */
export function mergeInto(existing: string, guest: SafeKubeconfig, opts: { setCurrent?: boolean } = {}): MergeResult {
  const doc = existing.trim() ? YAML.parseDocument(existing) : new YAML.Document({ apiVersion: 'v1', kind: 'Config' });
  if (doc.errors.length > 0)
    throw new LocalKubeconfigError(
      `the kubeconfig to merge into is not valid YAML (${doc.errors[0]?.message.split('\n')[0]}); fix or move it`,
    );
  if (!isMap(doc.contents)) throw new LocalKubeconfigError('the kubeconfig to merge into is not a YAML map; fix or move it');
  const taken = hostNames(doc);
  const all = [...guest.clusters, ...guest.users, ...guest.contexts].map((e) => e.name);
  let prefix = '';
  for (let n = 1; all.some((name) => taken.has(prefix + name)); n++) prefix = n === 1 ? 'guestlink-' : `guestlink-${n}-`;
  if (prefix) renameWith(guest, (old) => prefix + old);
  for (const key of ['clusters', 'users', 'contexts'] as const) {
    let list = doc.get(key);
    if (list === undefined || list === null) {
      list = doc.createNode([]);
      doc.set(key, list);
    }
    if (!isSeq(list)) throw new LocalKubeconfigError(`"${key}" in the kubeconfig to merge into is not a list; fix or move it`);
    for (const entry of guest[key]) list.add(doc.createNode(entry));
  }
  if (!doc.has('apiVersion')) doc.set('apiVersion', 'v1');
  if (!doc.has('kind')) doc.set('kind', 'Config');
  let current: string | undefined;
  if (opts.setCurrent) {
    current = guest['current-context'] ?? guest.contexts[0]?.name;
    if (current === undefined)
      throw new LocalKubeconfigError('--set-current: the guest kubeconfig has no context to make current; merge without it');
    doc.set('current-context', current);
  }
  return { text: doc.toString(), prefix, contexts: guest.contexts.map((x) => x.name), ...(current !== undefined ? { current } : {}) };
}

/** Writes a kubeconfig with mode 0600 (via a temporary file and rename, so readers never see half). */
export async function writeKubeconfig(file: string, text: string): Promise<void> {
  await mkdir(path.dirname(file), { recursive: true, mode: 0o700 });
  const tmp = `${file}.guestlink-${randomBytes(4).toString('hex')}`;
  const fh = await open(tmp, 'wx', 0o600);
  try {
    await fh.writeFile(text);
    await fh.sync();
    await fh.close();
    await chmod(tmp, 0o600);
    await rename(tmp, file);
  } catch (err) {
    await fh.close().catch(() => {});
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
