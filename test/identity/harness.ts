// Shared set-up for the management-endpoint tests: the Kubernetes API double (TLS, its cluster CA,
// the shipped RBAC for the agent and the user roles), a kubeconfig for the agent, the real agent
// process with --listen tls://127.0.0.1:0, and a raw QGA-over-TLS client that presents a client
// certificate (or none) and reads replies line by line.
import { mkdirSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import tls from 'node:tls';
import { type DoubleOptions, KubeApiDouble, kubeconfigFor, REPO_ROOT_DIR } from '../doubles/kube-api.js';
import type { KeyPair } from '../doubles/kube-ca.js';
import { startKubeAgent } from '../kube/setup.js';
import { makeTempDir, type Peer } from '../peer/harness.js';
import { pollFor as until } from '../poll.js';
import { tcpSockets } from '../proc-tcp.js';

export const MGMT_RBAC = path.join(REPO_ROOT_DIR, 'deploy/components/management-endpoint/rbac.yaml');
export const USER_ROLES = path.join(REPO_ROOT_DIR, 'deploy/components/management-endpoint/users.yaml');
export const SELF_APPROVE_RBAC = path.join(REPO_ROOT_DIR, 'deploy/components/management-endpoint-self-approve/rbac.yaml');

/** Polls until `f` is truthy or `ms` pass (default 10 s); the value or undefined (test/poll.ts). */
export { pollFor as until } from '../poll.js';

/** The API double with the management endpoint's RBAC, and Node n1 at 127.0.0.1. */
export async function startCluster(o: DoubleOptions & { selfApprove?: boolean } = {}): Promise<KubeApiDouble> {
  const double = await new KubeApiDouble({
    tls: true,
    ...o,
    extraRbacFiles: [MGMT_RBAC, USER_ROLES, ...(o.selfApprove ? [SELF_APPROVE_RBAC] : []), ...(o.extraRbacFiles ?? [])],
  }).start();
  double.addNode('n1', { addresses: [{ type: 'InternalIP', address: '127.0.0.1' }] });
  // Who may do what, as an administrator would bind the shipped roles.
  double.rbac.bind('guestlink-operator', { kind: 'User', name: 'operator' });
  double.rbac.bind('guestlink-viewer', { kind: 'Group', name: 'viewers' });
  return double;
}

export interface RunningEndpoint {
  agent: Peer;
  dir: string;
  /** The TLS port the agent bound. */
  port: number;
  /** Log lines (JSON) the agent wrote so far. */
  lines(): Record<string, any>[];
}

/** Starts the agent against `double` with the endpoint on; resolves once it listens (not once it has a certificate). */
export async function startEndpointAgent(
  double: KubeApiDouble,
  args: readonly string[] = [],
  dir = makeTempDir('guestlink-endpoint-'),
): Promise<RunningEndpoint> {
  mkdirSync(path.join(dir, 'gst'), { recursive: true });
  const agent = await startKubeAgent(double, dir, 'n1', ['--listen', 'tls://127.0.0.1:0', ...args]);
  const lines = () =>
    agent
      .stderr()
      .split('\n')
      .filter((l) => l.startsWith('{'))
      .map((l) => JSON.parse(l) as Record<string, any>);
  const listening = await until(() => lines().find((l) => l.msg === 'management endpoint listening'), 15_000);
  if (!listening) {
    await agent.stop();
    throw new Error(`the endpoint did not listen: ${agent.stderr()}`);
  }
  return { agent, dir, port: listening.port, lines };
}

/** Waits for the agent's CSR to appear on the double; its name. */
export async function waitForCsr(double: KubeApiDouble, n = 1): Promise<string> {
  const csrs = await until(() => (double.certificates.csrs.size >= n ? [...double.certificates.csrs.keys()] : undefined), 15_000);
  if (!csrs) throw new Error('no CSR was created');
  return csrs[csrs.length - 1] as string;
}

/** One QGA conversation over TLS with optional client credentials; replies are read line by line. */
export class TlsQga {
  private buf = '';
  private waiters: ((line: string | undefined) => void)[] = [];
  private ended = false;
  readonly closed: Promise<void>;

  private constructor(readonly sock: tls.TLSSocket) {
    sock.setEncoding('utf8');
    sock.on('data', (d: string) => {
      this.buf += d;
      let nl = this.buf.indexOf('\n');
      while (nl >= 0 && this.waiters.length > 0) {
        const line = this.buf.slice(0, nl);
        this.buf = this.buf.slice(nl + 1);
        this.waiters.shift()?.(line);
        nl = this.buf.indexOf('\n');
      }
    });
    this.closed = new Promise((resolve) => {
      const end = () => {
        this.ended = true;
        for (const w of this.waiters.splice(0)) w(undefined);
        resolve();
      };
      sock.on('close', end);
      sock.on('error', () => sock.destroy());
    });
  }

  /** Connects and completes the handshake (rejects when the client side sees it fail). */
  static connect(port: number, ca: string, creds?: Pick<KeyPair, 'key' | 'cert'>, extra: tls.ConnectionOptions = {}): Promise<TlsQga> {
    return new Promise((resolve, reject) => {
      const sock = tls.connect({ host: '127.0.0.1', port, ca, servername: 'n1', ...(creds ?? {}), ...extra });
      sock.once('secureConnect', () => resolve(new TlsQga(sock)));
      sock.once('error', reject);
    });
  }

  /** Sends one request line and resolves with the next reply line (undefined when the connection ends). */
  request(line: string): Promise<string | undefined> {
    return new Promise((resolve) => {
      const nl = this.buf.indexOf('\n');
      if (nl >= 0) {
        const l = this.buf.slice(0, nl);
        this.buf = this.buf.slice(nl + 1);
        resolve(l);
      } else if (this.ended) resolve(undefined);
      else this.waiters.push(resolve);
      this.sock.write(line.endsWith('\n') ? line : `${line}\n`);
    });
  }

  /** Sends without waiting for a reply (guest-shutdown answers nothing on success). */
  send(line: string): void {
    this.sock.write(line.endsWith('\n') ? line : `${line}\n`);
  }

  /** The reply to `execute` as parsed JSON. */
  async call(execute: string, args?: Record<string, unknown>): Promise<Record<string, any> | undefined> {
    const line = await this.request(JSON.stringify(args ? { execute, arguments: args } : { execute }));
    return line === undefined ? undefined : JSON.parse(line);
  }

  /** The serial of the certificate the server presented on this connection. */
  serverSerial(): string {
    return this.sock.getPeerCertificate().serialNumber;
  }

  close(): void {
    this.sock.destroy();
  }
}

/**
 * guest-ping over a fresh TLS session: the reply line, or undefined when the handshake fails or the agent
 * closes without answering (what every "this client is refused" check asks).
 */
export async function pingOverTls(port: number, ca: string, creds?: Pick<KeyPair, 'key' | 'cert'>): Promise<string | undefined> {
  try {
    const c = await TlsQga.connect(port, ca, creds);
    const reply = await c.request('{"execute":"guest-ping"}');
    c.close();
    return reply;
  } catch {
    return undefined;
  }
}

/** A user's kubeconfig (what `kubectl` uses): the double's server and CA, and a client certificate. */
export function userKubeconfig(double: KubeApiDouble, user: Pick<KeyPair, 'key' | 'cert'>, context = 'lab'): string {
  return kubeconfigFor(double, user, context);
}

/**
 * True once the listener on `port` has accept()ed every one of `clients` (IPv4 loopback connections): the
 * kernel gives a connection's server-side socket an inode only when accept() makes a file of it; until
 * then it sits in the listen queue with inode 0 (test/proc-tcp.ts). The agent counts a connection against
 * its cap in the same event-loop turn as the accept, so after this a further connection is counted after
 * them. Read from the kernel, not guessed with a sleep.
 */
export function accepted(port: number, clients: readonly net.Socket[]): boolean {
  const sockets = tcpSockets();
  return clients.every((c) => sockets.some((s) => s.localPort === port && s.remotePort === c.localPort && s.inode !== '0'));
}

/** A raw TCP connection to the endpoint that sends `bytes` (if any) and reports when the agent closes it. */
export function openRaw(port: number, bytes?: string | Buffer): Promise<{ sock: net.Socket; closed: Promise<Buffer> }> {
  return new Promise((resolve) => {
    const sock = net.connect(port, '127.0.0.1');
    const got: Buffer[] = [];
    sock.on('data', (d: Buffer) => got.push(d));
    sock.on('error', () => {});
    const closed = new Promise<Buffer>((r) => sock.on('close', () => r(Buffer.concat(got))));
    sock.on('connect', () => {
      if (bytes !== undefined) sock.write(bytes);
      resolve({ sock, closed });
    });
  });
}
