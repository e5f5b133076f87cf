// Reads a kubeconfig (current context) into a Connection, the way kubectl does: several files in
// KUBECONFIG merge with the first one to set a name winning, relative file paths are relative to
// the file that names them, *-data fields are base64. Credentials supported: token, tokenFile and
// client certificates. Exec and auth-provider plugins are refused with the reason (they would run
// programs from a config file inside the agent; give the agent a service-account token instead).
import { readFileSync } from 'node:fs';
import path from 'node:path';
// Static (it imports the yaml package): this module is itself loaded only with a cluster (kube/index.ts
// is a lazy import), and a dynamic import() of the CommonJS yaml package loses its named exports in the split bundle.
import { parseYamlQuietly } from '../text/quiet-yaml.js';
import { KubeError } from './errors.js';
import type { Connection } from './rest.js';

interface Named<T> {
  name: string;
  value: T;
  dir: string;
}
type Obj = Record<string, unknown>;

function str(o: Obj | undefined, key: string): string | undefined {
  const v = o?.[key];
  return typeof v === 'string' && v !== '' ? v : undefined;
}

function entries(doc: Obj, list: string, inner: string, dir: string): Named<Obj>[] {
  const arr = Array.isArray(doc[list]) ? (doc[list] as Obj[]) : [];
  return arr.filter((e) => e && typeof e.name === 'string').map((e) => ({ name: e.name as string, value: (e[inner] ?? {}) as Obj, dir }));
}

/** Loads file or inline data: `<key>-data` (base64) wins over `<key>` (a path). */
function material(o: Obj, key: string, dir: string): Buffer | undefined {
  const data = str(o, `${key}-data`);
  if (data) return Buffer.from(data, 'base64');
  const file = str(o, key);
  if (!file) return undefined;
  const p = path.resolve(dir, file);
  try {
    return readFileSync(p);
  } catch (err) {
    throw new KubeError('KUBE_CONFIG', `kubeconfig ${key} ${p}: ${(err as Error).message}`);
  }
}

/**
 * Runs a user's exec credential plugin (client.authentication.k8s.io) and returns what it gave.
 * Only the host CLI passes one (the user's own kubeconfig, run as the user, as kubectl does); the
 * agent passes none, so a config file cannot make it run a program.
 */
export type ExecHandler = (
  exec: Obj,
  ctx: { user: string; dir: string; server: string; ca?: Buffer; insecureSkipTlsVerify?: boolean },
) => Pick<Connection, 'token' | 'cert' | 'key'>;

export interface LoadOptions {
  /** This context instead of the files' current-context (kubectl --context). */
  context?: string;
  /** Runs exec credential plugins; absent, a user with one is refused. */
  exec?: ExecHandler;
}

/** A Connection for the current context (or `opts.context`) of the merged kubeconfig files (a KUBECONFIG-style list). */
export async function loadKubeconfig(paths: string, opts: LoadOptions = {}): Promise<Connection & { context: string }> {
  const files = paths.split(path.delimiter).filter((p) => p !== '');
  const clusters = new Map<string, Named<Obj>>();
  const users = new Map<string, Named<Obj>>();
  const contexts = new Map<string, Named<Obj>>();
  let current: string | undefined;
  let read = 0;
  for (const file of files) {
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch (err) {
      // kubectl skips missing files in a list; a single named file must exist.
      if (files.length > 1 && (err as NodeJS.ErrnoException).code === 'ENOENT') continue;
      throw new KubeError('KUBE_CONFIG', `cannot read kubeconfig ${file}: ${(err as Error).message}`);
    }
    read++;
    let doc: Obj;
    try {
      doc = (parseYamlQuietly(text) ?? {}) as Obj;
    } catch (err) {
      // Line, column and kind only: the file holds tokens and keys, and this text reaches the start-up error.
      throw new KubeError('KUBE_CONFIG', `kubeconfig ${file} is not valid YAML: ${(err as Error).message}`);
    }
    const dir = path.dirname(path.resolve(file));
    for (const [map, list, inner] of [
      [clusters, 'clusters', 'cluster'],
      [users, 'users', 'user'],
      [contexts, 'contexts', 'context'],
    ] as const)
      for (const e of entries(doc, list, inner, dir)) if (!map.has(e.name)) map.set(e.name, e);
    current ??= str(doc, 'current-context');
  }
  if (read === 0) throw new KubeError('KUBE_CONFIG', `none of the kubeconfig files exist: ${paths}`);
  if (opts.context) current = opts.context;
  if (!current) throw new KubeError('KUBE_CONFIG', `kubeconfig ${paths} has no current-context`);
  const ctx = contexts.get(current)?.value;
  if (!ctx) throw new KubeError('KUBE_CONFIG', `kubeconfig ${paths}: context "${current}" is not defined`);
  const cluster = clusters.get(str(ctx, 'cluster') ?? '');
  if (!cluster)
    throw new KubeError('KUBE_CONFIG', `kubeconfig ${paths}: cluster "${str(ctx, 'cluster')}" of context "${current}" is not defined`);
  const server = str(cluster.value, 'server');
  if (!server) throw new KubeError('KUBE_CONFIG', `kubeconfig ${paths}: cluster "${cluster.name}" has no server`);
  if (str(cluster.value, 'proxy-url'))
    throw new KubeError('KUBE_CONFIG', `kubeconfig ${paths}: proxy-url is not supported; give the agent a direct address`);
  const conn: Connection & { context: string } = { server, context: current };
  const ca = material(cluster.value, 'certificate-authority', cluster.dir);
  if (ca) conn.ca = ca;
  if (cluster.value['insecure-skip-tls-verify'] === true) conn.insecureSkipTlsVerify = true;
  const sni = str(cluster.value, 'tls-server-name');
  if (sni) conn.tlsServerName = sni;
  const userName = str(ctx, 'user');
  const user = userName ? users.get(userName) : undefined;
  if (userName && !user)
    throw new KubeError('KUBE_CONFIG', `kubeconfig ${paths}: user "${userName}" of context "${current}" is not defined`);
  if (user) {
    const u = user.value;
    if (u.exec && opts.exec && !u['auth-provider'] && typeof u.exec === 'object') {
      Object.assign(
        conn,
        opts.exec(u.exec as Obj, {
          user: user.name,
          dir: user.dir,
          server,
          ...(Buffer.isBuffer(conn.ca) ? { ca: conn.ca } : {}),
          ...(conn.insecureSkipTlsVerify ? { insecureSkipTlsVerify: true } : {}),
        }),
      );
      return conn;
    }
    if (u.exec || u['auth-provider'])
      throw new KubeError(
        'KUBE_CONFIG',
        `kubeconfig ${paths}: user "${user.name}" uses an ${u.exec ? 'exec' : 'auth-provider'} plugin, which guestlink does not run; use a token, tokenFile or client certificate (for example a ServiceAccount token bound to deploy/kubernetes/rbac.yaml)`,
      );
    const cert = material(u, 'client-certificate', user.dir);
    const key = material(u, 'client-key', user.dir);
    if (cert && key) {
      conn.cert = cert;
      conn.key = key;
    } else if (cert || key)
      throw new KubeError('KUBE_CONFIG', `kubeconfig ${paths}: user "${user.name}" needs both client-certificate and client-key`);
    const token = str(u, 'token');
    const tokenFile = str(u, 'tokenFile');
    if (token) conn.token = () => token;
    else if (tokenFile) conn.token = rereadingToken(path.resolve(user.dir, tokenFile));
  }
  return conn;
}

/**
 * A token read from a file, re-read at most once a minute, as client-go does: projected
 * service-account tokens are rotated by the kubelet while the agent runs.
 */
export function rereadingToken(file: string, maxAgeMs = 60_000): () => string | undefined {
  let value: string | undefined;
  let readAt = 0;
  return () => {
    const now = Date.now();
    if (value === undefined || now - readAt > maxAgeMs) {
      try {
        value = readFileSync(file, 'utf8').trim();
        readAt = now;
      } catch (err) {
        if (value === undefined) throw new KubeError('KUBE_CONFIG', `cannot read token file ${file}: ${(err as Error).message}`);
      }
    }
    return value;
  };
}
