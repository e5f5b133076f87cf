// A real etcd (Debian's etcd-server, 3.4) for the snapshot tests, started by the test on loopback
// with a temp data dir and free ports, with TLS (a CA, a server and a client certificate made by
// openssl, client certificates required) or plain http; ended by its PID. etcdctl (etcd-client)
// writes the keys and checks the snapshots, independently of guestlink's code.
// Where etcd is missing: under CI (CI=true) that is a failure, elsewhere the tests skip and say so.
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { makeCa, makeLeaf } from '../talos/pki.js';

/** The etcd and etcdctl under test (Debian's etcd-server and etcd-client; a test knob may point elsewhere). */
export const ETCD = process.env.GUESTLINK_ETCD ?? '/usr/bin/etcd';
export const ETCDCTL = process.env.GUESTLINK_ETCDCTL ?? '/usr/bin/etcdctl';

/** Why the real-etcd tests cannot run here, or undefined. Under CI a missing etcd throws instead. */
export function etcdMissing(): string | undefined {
  const missing = [ETCD, ETCDCTL].filter((p) => !existsSync(p));
  if (missing.length === 0) return undefined;
  const why = `${missing.join(' and ')} missing: install etcd-server and etcd-client (bash scripts/setup-apt.sh)`;
  if (process.env.CI === 'true') throw new Error(`CI: ${why}`);
  return `skipped: ${why}`;
}

/** The PEM files of a test etcd's TLS (CA, server, client). */
export interface EtcdTls {
  ca: string;
  serverCert: string;
  serverKey: string;
  clientCert: string;
  clientKey: string;
}

/**
 * A CA, a server certificate for 127.0.0.1/localhost and a client certificate, in `dir` (Ed25519, one
 * day; made by the openssl CLI as the Talos tests make theirs). etcd requires client certificates of
 * this CA (--client-cert-auth), as kubeadm configures it.
 */
export function makeEtcdPki(dir: string): EtcdTls {
  mkdirSync(dir, { recursive: true });
  makeCa(dir, 'ca');
  makeLeaf(dir, 'ca', 'server', { orgs: [], server: true });
  makeLeaf(dir, 'ca', 'client', { orgs: [] });
  const p = (f: string) => path.join(dir, f);
  return {
    ca: p('ca.crt'),
    serverCert: p('server.crt'),
    serverKey: p('server.key'),
    clientCert: p('client.crt'),
    clientKey: p('client.key'),
  };
}

/** A free TCP port on 127.0.0.1 (bound and released; etcd binds it right after). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as net.AddressInfo;
      s.close(() => resolve(port));
    });
  });
}

/** A running etcd of the test's own. */
export interface RealEtcd {
  url: string;
  dataDir: string;
  pid: number;
  tls?: EtcdTls;
  /** etcdctl with this server's endpoint and TLS flags. */
  ctl(args: string[], input?: string | Buffer): { status: number | null; stdout: string; stderr: string };
  put(key: string, value: string | Buffer): void;
  /** The revision etcd reports now (etcdctl endpoint status). */
  revision(): number;
  stop(): Promise<void>;
  alive(): boolean;
}

const live = new Set<ChildProcess>();
process.once('exit', () => {
  for (const c of live) if (c.pid) process.kill(c.pid, 'SIGKILL');
});

/** Starts etcd on `dataDir` (created when missing) and waits until it answers. */
export async function startEtcd(opts: { dataDir: string; tls?: EtcdTls; name?: string }): Promise<RealEtcd> {
  const [client, peer] = [await freePort(), await freePort()];
  const scheme = opts.tls ? 'https' : 'http';
  const url = `${scheme}://127.0.0.1:${client}`;
  const name = opts.name ?? 'gl';
  const args = [
    '--name',
    name,
    '--data-dir',
    opts.dataDir,
    '--listen-client-urls',
    url,
    '--advertise-client-urls',
    url,
    '--listen-peer-urls',
    `http://127.0.0.1:${peer}`,
    '--initial-advertise-peer-urls',
    `http://127.0.0.1:${peer}`,
    '--initial-cluster',
    `${name}=http://127.0.0.1:${peer}`,
    '--logger',
    'zap',
    '--log-level',
    'error',
  ];
  if (opts.tls)
    args.push('--cert-file', opts.tls.serverCert, '--key-file', opts.tls.serverKey, '--trusted-ca-file', opts.tls.ca, '--client-cert-auth');
  const child = spawn(ETCD, args, { stdio: ['ignore', 'ignore', 'pipe'] });
  live.add(child);
  let stderr = '';
  child.stderr?.setEncoding('utf8').on('data', (d: string) => {
    if (stderr.length < 65536) stderr += d;
  });
  let exited = false;
  const exit = new Promise<void>((resolve) =>
    child.once('exit', () => {
      exited = true;
      live.delete(child);
      resolve();
    }),
  );
  const tlsFlags = opts.tls ? ['--cacert', opts.tls.ca, '--cert', opts.tls.clientCert, '--key', opts.tls.clientKey] : [];
  const ctl = (a: string[], input?: string | Buffer) => {
    const r = spawnSync(ETCDCTL, ['--endpoints', url, ...tlsFlags, '--command-timeout=10s', ...a], {
      env: { ...process.env, ETCDCTL_API: '3' },
      input,
      encoding: 'utf8',
      timeout: 30_000,
      maxBuffer: 64 << 20,
    });
    return { status: r.status, stdout: r.stdout ?? '', stderr: r.stderr ?? '' };
  };
  const etcd: RealEtcd = {
    url,
    dataDir: opts.dataDir,
    pid: child.pid as number,
    ...(opts.tls ? { tls: opts.tls } : {}),
    ctl,
    put: (key, value) => {
      // The value on stdin (etcdctl put KEY reads it there), so binary and large values pass unchanged.
      const r = ctl(['put', key], value);
      if (r.status !== 0) throw new Error(`etcdctl put ${key} failed: ${r.stderr}`);
    },
    revision: () => {
      const r = ctl(['endpoint', 'status', '-w', 'json']);
      if (r.status !== 0) throw new Error(`etcdctl endpoint status failed: ${r.stderr}`);
      return Number(JSON.parse(r.stdout)[0].Status.header.revision);
    },
    alive: () => !exited,
    stop: async () => {
      if (exited) return;
      process.kill(child.pid as number, 'SIGTERM');
      const t = setTimeout(() => !exited && process.kill(child.pid as number, 'SIGKILL'), 5000);
      await exit;
      clearTimeout(t);
    },
  };
  for (let i = 0; ; i++) {
    if (exited) throw new Error(`etcd exited at start: ${stderr}`);
    if (etcd.ctl(['endpoint', 'health']).status === 0) return etcd;
    if (i > 100) {
      await etcd.stop();
      throw new Error(`etcd did not become healthy: ${stderr}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** A real snapshot file of `etcd` (etcdctl snapshot save, etcd's own client), its bytes and revision. */
export function saveSnapshot(etcd: RealEtcd, file: string): { bytes: Buffer; revision: number } {
  const r = etcd.ctl(['snapshot', 'save', file]);
  if (r.status !== 0) throw new Error(`etcdctl snapshot save failed: ${r.stderr}`);
  return { bytes: readFileSync(file), revision: snapshotStatus(file).revision };
}

/** `etcdctl snapshot status -w json` of a file: etcd's own reading of it (throws when etcdctl rejects it). */
export function snapshotStatus(file: string): { hash: number; revision: number; totalKey: number; totalSize: number } {
  const r = spawnSync(ETCDCTL, ['snapshot', 'status', file, '-w', 'json'], { env: { ...process.env, ETCDCTL_API: '3' }, encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`etcdctl snapshot status ${file}: ${r.stderr}`);
  return JSON.parse(r.stdout);
}

/** `etcdctl snapshot restore` into a fresh data dir (which must not exist yet); throws with etcdctl's reason. */
export function restoreSnapshot(file: string, dataDir: string, name = 'restored'): void {
  const r = spawnSync(
    ETCDCTL,
    [
      'snapshot',
      'restore',
      file,
      '--data-dir',
      dataDir,
      '--name',
      name,
      '--initial-cluster',
      `${name}=http://127.0.0.1:2380`,
      '--initial-advertise-peer-urls',
      'http://127.0.0.1:2380',
    ],
    {
      env: { ...process.env, ETCDCTL_API: '3' },
      encoding: 'utf8',
    },
  );
  if (r.status !== 0) throw new Error(`etcdctl snapshot restore ${file}: ${r.stderr}`);
}
