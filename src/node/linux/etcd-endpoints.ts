// Where this node's etcd is and how to authenticate to it, without loading gRPC: --etcd-endpoints
// and --etcd-cacert/--etcd-cert/--etcd-key when given, else what the distribution leaves on disk —
// kubeadm's static pod manifest (/etc/kubernetes/manifests/etcd.yaml, its --listen-client-urls) with
// the healthcheck client certificate under /etc/kubernetes/pki/etcd/; k3s's and RKE2's embedded
// etcd (server/db/etcd present) with their server/tls/etcd/ client certificate. Nothing found: not
// a control-plane node (or not an etcd one: k3s on SQLite) — no snapshots, nothing loaded.
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';

/**
 * A dotted-quad IPv4 address, the same pattern as node:net's isIP(h) === 4 (its internal IPv4Reg): the
 * settings import this file to check --etcd-endpoints, and node:net there cost every start ~2 ms (on
 * virtio-serial nothing else needs it).
 */
const IPV4 = /^(?:(?:25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9][0-9]|[0-9])\.){3}(?:25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9][0-9]|[0-9])$/;

/** One way to reach etcd: a gRPC target and its TLS material. */
export interface EtcdEndpoint {
  /** As configured: https://127.0.0.1:2379, http://[::1]:2379. */
  url: string;
  /** host:port for gRPC. */
  target: string;
  tls: boolean;
}

/** Everything needed to connect: the endpoints in order and the TLS files. */
export interface EtcdAccess {
  endpoints: EtcdEndpoint[];
  ca?: string;
  cert?: string;
  key?: string;
  /** How they were found, for the start-up log: "configured", "kubeadm", "k3s", "rke2". */
  via: string;
}

/** A configured endpoint that is refused (not a URL, plain http off loopback): a configuration error. */
export class EtcdEndpointError extends Error {
  readonly code = 'ETCD_CONFIG';
}

/** True for 127.0.0.0/8, ::1 and localhost: the only places plain http may go. */
export function isLoopback(host: string): boolean {
  const h = host.replace(/^\[|\]$/g, '');
  if (h === 'localhost') return true;
  if (IPV4.test(h)) return h.startsWith('127.');
  return h === '::1';
}

/** Parses one endpoint URL; plain http only to loopback (etcd's traffic is every Secret of the cluster). */
export function parseEndpoint(url: string): EtcdEndpoint {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    throw new EtcdEndpointError(`etcd endpoint "${url}" is not a URL (like https://127.0.0.1:2379)`);
  }
  if (u.protocol !== 'https:' && u.protocol !== 'http:')
    throw new EtcdEndpointError(`etcd endpoint "${url}": only https:// (or http:// to loopback) is supported`);
  if (u.pathname !== '/' && u.pathname !== '') throw new EtcdEndpointError(`etcd endpoint "${url}" must not have a path`);
  const tls = u.protocol === 'https:';
  if (!tls && !isLoopback(u.hostname))
    throw new EtcdEndpointError(
      `etcd endpoint "${url}": plain http is allowed only to loopback (127.0.0.1, ::1); use https with --etcd-cacert/--etcd-cert/--etcd-key`,
    );
  const port = u.port || '2379';
  return { url, target: `${u.hostname}:${port}`, tls };
}

/** The agent's etcd settings that detection reads. */
export interface DetectSettings {
  etcdEndpoints: readonly string[];
  etcdCacert?: string;
  etcdCert?: string;
  etcdKey?: string;
}

/** The kubeadm manifest's client URLs, loopback first (a snapshot of the local member, no network hop). */
export function kubeadmClientUrls(manifest: string): string[] {
  const m = /--listen-client-urls=([^\s"']+)/.exec(manifest);
  const urls = (m?.[1] ?? '').split(',').filter(Boolean);
  const local = urls.filter((u) => {
    try {
      return isLoopback(new URL(u).hostname);
    } catch {
      return false;
    }
  });
  return [...local, ...urls.filter((u) => !local.includes(u))];
}

const fromRoot = (root: string, p: string) => path.join(root, p);

/**
 * How to reach etcd here, or undefined when this node runs none. `root` prefixes every path
 * (tests; a DaemonSet that mounts the host at /host).
 */
export function detectEtcd(s: DetectSettings, root = '/', exists: (p: string) => boolean = existsSync): EtcdAccess | undefined {
  const given = { ca: s.etcdCacert, cert: s.etcdCert, key: s.etcdKey };
  const withGiven = (a: EtcdAccess): EtcdAccess => ({
    ...a,
    ...(given.ca ? { ca: given.ca } : {}),
    ...(given.cert ? { cert: given.cert } : {}),
    ...(given.key ? { key: given.key } : {}),
  });
  if (s.etcdEndpoints.length > 0) return withGiven({ endpoints: s.etcdEndpoints.map(parseEndpoint), via: 'configured' });
  const manifest = fromRoot(root, 'etc/kubernetes/manifests/etcd.yaml');
  if (exists(manifest)) {
    const urls = kubeadmClientUrls(readFileSync(manifest, 'utf8'));
    const pki = fromRoot(root, 'etc/kubernetes/pki/etcd');
    return withGiven({
      endpoints: (urls.length > 0 ? urls : ['https://127.0.0.1:2379']).map(parseEndpoint),
      ca: path.join(pki, 'ca.crt'),
      cert: path.join(pki, 'healthcheck-client.crt'),
      key: path.join(pki, 'healthcheck-client.key'),
      via: 'kubeadm',
    });
  }
  for (const distro of ['k3s', 'rke2']) {
    const server = fromRoot(root, `var/lib/rancher/${distro}/server`);
    if (!exists(path.join(server, 'db/etcd'))) continue;
    const tls = path.join(server, 'tls/etcd');
    return withGiven({
      endpoints: [parseEndpoint('https://127.0.0.1:2379')],
      ca: path.join(tls, 'server-ca.crt'),
      cert: path.join(tls, 'client.crt'),
      key: path.join(tls, 'client.key'),
      via: distro,
    });
  }
  return undefined;
}
