// A guest's kubeconfig is untrusted input. The kubeconfig written or merged on this host is built from
// an allow-list of fields (client-go's clientcmd/api/v1 types): embedded data survives; fields that
// make kubectl run a program, read a host file or send requests or credentials somewhere else are
// refused with the reason; anything else (extensions, preferences, fields kubectl may add later) is
// dropped and named. Nothing is deleted from a deny-list: an unknown field never reaches the output.
import { isObject } from '../../protocol/qga/json-value.js';
import { hasControlChars } from '../control-chars.js';
import { UnsafeKubeconfigError } from '../errors.js';

/** What survives of a cluster. */
export interface SafeCluster {
  server: string;
  'certificate-authority-data'?: string;
  'tls-server-name'?: string;
  'insecure-skip-tls-verify'?: boolean;
  'disable-compression'?: boolean;
}
/** What survives of a user: embedded credentials only. */
export interface SafeUser {
  'client-certificate-data'?: string;
  'client-key-data'?: string;
  token?: string;
}
/** A context references the guest's own cluster and user by name. */
export interface SafeContext {
  cluster: string;
  user: string;
  namespace?: string;
}
/** The allow-listed kubeconfig: every context resolves to entries of the same file. */
export interface SafeKubeconfig {
  clusters: { name: string; cluster: SafeCluster }[];
  users: { name: string; user: SafeUser }[];
  contexts: { name: string; context: SafeContext }[];
  'current-context'?: string;
}

type Kind = 'string' | 'base64' | 'boolean' | 'https-url';
type Rule = { keep: Kind } | { refuse: string } | { drop: string };

const READS_FILE = 'makes kubectl read a file on this host';
const DROP_EXT = 'extensions are for other tools; their meaning is theirs';
const CLUSTER: Record<string, Rule> = {
  server: { keep: 'https-url' },
  'certificate-authority-data': { keep: 'base64' },
  'tls-server-name': { keep: 'string' },
  'insecure-skip-tls-verify': { keep: 'boolean' },
  'disable-compression': { keep: 'boolean' },
  'certificate-authority': { refuse: READS_FILE },
  'proxy-url': { refuse: 'sends every request, credentials included, through a proxy the guest chose' },
  extensions: { drop: DROP_EXT },
};
const IMPERSONATES = 'impersonation: an admin kubeconfig acts as itself';
const USER: Record<string, Rule> = {
  'client-certificate-data': { keep: 'base64' },
  'client-key-data': { keep: 'base64' },
  token: { keep: 'string' },
  'client-certificate': { refuse: READS_FILE },
  'client-key': { refuse: READS_FILE },
  tokenFile: { refuse: READS_FILE },
  exec: { refuse: 'runs a program on this host each time kubectl uses it' },
  'auth-provider': { refuse: 'runs an authentication plugin on this host, which may send tokens where the guest says' },
  username: { refuse: 'basic authentication (gone from Kubernetes since 1.19): no password is stored from a guest' },
  password: { refuse: 'basic authentication (gone from Kubernetes since 1.19): no password is stored from a guest' },
  as: { refuse: IMPERSONATES },
  'as-uid': { refuse: IMPERSONATES },
  'as-groups': { refuse: IMPERSONATES },
  'as-user-extra': { refuse: IMPERSONATES },
  extensions: { drop: DROP_EXT },
};
const CONTEXT: Record<string, Rule> = {
  cluster: { keep: 'string' },
  user: { keep: 'string' },
  namespace: { keep: 'string' },
  extensions: { drop: DROP_EXT },
};

export interface AllowListResult {
  config: SafeKubeconfig;
  /** Fields left out (path and why), for a note on stderr. */
  dropped: string[];
}

class Checker {
  readonly problems: string[] = [];
  readonly dropped: string[] = [];

  /** The allow-listed copy of `obj` under `rules`; problems and drops are recorded with `where`. */
  fields(obj: unknown, rules: Record<string, Rule>, where: string): Record<string, string | boolean> {
    const out: Record<string, string | boolean> = {};
    if (!isObject(obj)) {
      this.problems.push(`${where}: not a map`);
      return out;
    }
    for (const [key, value] of Object.entries(obj)) {
      if (value === null || value === undefined) continue;
      const rule = Object.hasOwn(rules, key) ? rules[key] : undefined;
      if (!rule) this.dropped.push(`${where}.${key} (not a field guestlink keeps)`);
      else if ('drop' in rule) this.dropped.push(`${where}.${key} (${rule.drop})`);
      else if ('refuse' in rule) this.problems.push(`${where}.${key}: ${rule.refuse}`);
      else {
        const why = badValue(rule.keep, value);
        if (why) this.problems.push(`${where}.${key}: ${why}`);
        else out[key] = value as string | boolean;
      }
    }
    return out;
  }

  /** A list of named entries ({name, <inner>: {...}}), each checked with `rules`. */
  named<T>(list: unknown, key: 'clusters' | 'users' | 'contexts', inner: string, rules: Record<string, Rule>): { name: string; body: T }[] {
    if (list === undefined || list === null) return [];
    if (!Array.isArray(list)) {
      this.problems.push(`${key}: not a list`);
      return [];
    }
    const seen = new Set<string>();
    const out: { name: string; body: T }[] = [];
    for (const [i, entry] of list.entries()) {
      const where = `${key}[${i}]`;
      if (!isObject(entry)) {
        this.problems.push(`${where}: not a map`);
        continue;
      }
      const name = entry.name;
      const why = typeof name === 'string' ? badValue('string', name) : 'the name is not a string';
      if (why) this.problems.push(`${where}.name: ${why}`);
      else if (seen.has(name as string)) this.problems.push(`${where}: a second entry named "${name}"`);
      if (why || seen.has(name as string)) continue;
      seen.add(name as string);
      for (const k of Object.keys(entry)) if (k !== 'name' && k !== inner) this.dropped.push(`${where}.${k} (not a field guestlink keeps)`);
      out.push({ name: name as string, body: this.fields(entry[inner], rules, `${where} "${name}".${inner}`) as T });
    }
    return out;
  }
}

function badValue(kind: Kind, value: unknown): string | undefined {
  if (kind === 'boolean') return typeof value === 'boolean' ? undefined : 'must be true or false';
  if (typeof value !== 'string') return 'must be a string';
  if (value === '') return 'is empty';
  if (hasControlChars(value)) return 'holds control characters';
  if (kind === 'base64' && !/^[A-Za-z0-9+/=\r\n]+$/.test(value)) return 'is not base64 data';
  if (kind === 'https-url') {
    let u: URL;
    try {
      u = new URL(value);
    } catch {
      return 'is not a URL';
    }
    if (u.protocol !== 'https:') return 'must be https:// (the API server speaks TLS; anything else sends the credentials in clear)';
    if (u.username || u.password) return 'must not carry a user name or password';
  }
  return undefined;
}

/**
 * Builds the allow-listed kubeconfig from parsed guest data, or throws UnsafeKubeconfigError naming every
 * refused field (nothing is written then).
 */
export function allowListKubeconfig(doc: unknown, source: string): AllowListResult {
  const c = new Checker();
  if (!isObject(doc)) throw new UnsafeKubeconfigError(`${source} is not a kubeconfig (not a map); nothing was written`);
  if (doc.kind !== undefined && doc.kind !== 'Config') c.problems.push(`kind: "${String(doc.kind)}" is not Config`);
  if (doc.apiVersion !== undefined && doc.apiVersion !== 'v1') c.problems.push(`apiVersion: "${String(doc.apiVersion)}" is not v1`);
  for (const k of Object.keys(doc))
    if (!['kind', 'apiVersion', 'clusters', 'users', 'contexts', 'current-context'].includes(k))
      c.dropped.push(`${k} (${k === 'extensions' ? DROP_EXT : 'not a field guestlink keeps'})`);
  if (!Array.isArray(doc.clusters) || doc.clusters.length === 0)
    throw new UnsafeKubeconfigError(`${source} is not a kubeconfig (no clusters); nothing was written`);
  const clusters = c.named<SafeCluster>(doc.clusters, 'clusters', 'cluster', CLUSTER);
  const users = c.named<SafeUser>(doc.users, 'users', 'user', USER);
  const contexts = c.named<SafeContext>(doc.contexts, 'contexts', 'context', CONTEXT);
  for (const x of clusters) if (typeof x.body.server !== 'string') c.problems.push(`cluster "${x.name}": no server`);
  // A context may name only this file's own cluster and user: a name it does not define would bind,
  // once merged, to the host's entry of that name (its server, its credentials).
  const cnames = new Set(clusters.map((x) => x.name));
  const unames = new Set(users.map((x) => x.name));
  for (const x of contexts) {
    if (!cnames.has(x.body.cluster))
      c.problems.push(`context "${x.name}": cluster "${x.body.cluster ?? ''}" is not defined in this kubeconfig`);
    if (!unames.has(x.body.user)) c.problems.push(`context "${x.name}": user "${x.body.user ?? ''}" is not defined in this kubeconfig`);
  }
  const current = doc['current-context'];
  if (current !== undefined && current !== null && current !== '') {
    if (typeof current !== 'string' || !contexts.some((x) => x.name === current))
      c.problems.push(`current-context "${String(current)}" is not a context of this kubeconfig`);
  }
  if (c.problems.length > 0)
    throw new UnsafeKubeconfigError(
      `refused the guest's kubeconfig ${source}; nothing was written: ${c.problems.join('; ')}. guestlink keeps only embedded credentials ` +
        '(client-certificate-data, client-key-data, token); to inspect the file itself: guestlink cp VM:PATH ./file',
    );
  return {
    config: {
      clusters: clusters.map((x) => ({ name: x.name, cluster: x.body })),
      users: users.map((x) => ({ name: x.name, user: x.body })),
      contexts: contexts.map((x) => ({ name: x.name, context: x.body })),
      ...(typeof current === 'string' && current !== '' ? { 'current-context': current } : {}),
    },
    dropped: c.dropped,
  };
}

/** The clusters that turn TLS verification off (kubectl would hand credentials to whoever answers). */
export function insecureClusters(config: SafeKubeconfig): string[] {
  return config.clusters.filter((c) => c.cluster['insecure-skip-tls-verify'] === true).map((c) => c.name);
}
