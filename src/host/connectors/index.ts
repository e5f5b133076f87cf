// Opens connections for VM addresses (the forms are in addresses.ts, one connector per scheme,
// registered as MQTT.js does transports) and expands fleet patterns into single addresses.
import type { AgentConnection } from '../connection.js';
import { AddressError } from '../errors.js';
import { describeForms, parseAddress } from './addresses.js';
import { type KubeAccess, KubeNodes } from './kube-nodes.js';
import { LibvirtConnection, type LibvirtOptions, listDomains } from './libvirt.js';
import { listNodeVms, listPoolVms, PveConnection } from './pve.js';
import { PveHttp, type PveOptions } from './pve-http.js';
import { TlsConnection } from './tls.js';
import { UnixConnection } from './unix.js';

export interface ConnectOptions {
  libvirt?: LibvirtOptions;
  /** Proxmox settings; the token may be absent until a pve address is used (then it is an error). */
  pve?: Partial<PveOptions>;
  /** The user's kubeconfig for tls:// and node:// addresses (read only when one is used). */
  kube?: KubeAccess;
}

/** Opens connections and owns what they share (one HTTPS agent per Proxmox URL, one Kubernetes client); close() ends all. */
export class Connector {
  private pveHttp: PveHttp | undefined;
  private kubeNodes: KubeNodes | undefined;
  private readonly open = new Set<AgentConnection>();

  constructor(private readonly opts: ConnectOptions = {}) {}

  private pve(): PveHttp {
    const p = this.opts.pve ?? {};
    if (!p.url) throw new AddressError('a pve:// address needs --pve-url https://HOST:8006 (or PVE_URL)');
    if (!p.token) throw new AddressError('a pve:// address needs an API token in PVE_TOKEN (USER@REALM!TOKENID=SECRET)');
    this.pveHttp ??= new PveHttp(p as PveOptions);
    return this.pveHttp;
  }

  private kube(): KubeNodes {
    if (!this.opts.kube)
      throw new AddressError('node:// and tls:// addresses need a kubeconfig (--kubeconfig, KUBECONFIG or ~/.kube/config)');
    this.kubeNodes ??= new KubeNodes(this.opts.kube);
    return this.kubeNodes;
  }

  /** A connection for one VM address (nothing is sent until the first call). */
  connect(address: string): AgentConnection {
    const conn = this.make(address);
    this.open.add(conn);
    return conn;
  }

  private make(address: string): AgentConnection {
    const p = parseAddress(address)?.parsed;
    switch (p?.kind) {
      case 'unix':
        return new UnixConnection(address, p.path);
      case 'libvirt':
        return new LibvirtConnection(address, p.domain, this.opts.libvirt ?? {});
      case 'pve':
        return new PveConnection(address, p.node, p.vmid, this.pve());
      case 'tls': {
        const kube = this.kube();
        const target = { host: p.host, port: p.port, servername: p.host };
        return new TlsConnection(
          address,
          p.host,
          async () => target,
          () => kube.credentials(),
        );
      }
      case 'node': {
        const kube = this.kube();
        return new TlsConnection(
          address,
          p.name,
          () => kube.target(p.name, p.port),
          () => kube.credentials(),
        );
      }
    }
    if (address === 'unix:') throw new AddressError(`"${address}": unix: needs a socket path (unix:/run/qga.sock)`);
    if (address.startsWith('libvirt:')) throw new AddressError(`"${address}": libvirt: needs a domain name (globs only in fleet mode)`);
    throw new AddressError(`"${address}" is not a VM address; use one of: ${describeForms(false)}`);
  }

  /**
   * Expands fleet patterns into single addresses: libvirt:GLOB (running domains), pve://NODE/* (running
   * VMs on a node), pve-pool:POOL, node://* and node-selector:SELECTOR (Kubernetes Nodes); other
   * addresses pass through unchanged.
   */
  async expand(addresses: readonly string[]): Promise<string[]> {
    const out: string[] = [];
    for (const a of addresses) {
      const p = parseAddress(a)?.parsed;
      if (p?.kind === 'libvirt-glob') {
        const names = await listDomains(this.opts.libvirt ?? {}, p.glob);
        out.push(...names.map((n) => `libvirt:${n}`));
      } else if (p?.kind === 'pve-node') {
        out.push(...(await listNodeVms(this.pve(), p.node)).map((id) => `pve://${p.node}/${id}`));
      } else if (p?.kind === 'pve-pool') {
        out.push(...(await listPoolVms(this.pve(), p.pool)).map((m) => `pve://${m.node}/${m.vmid}`));
      } else if (p?.kind === 'node-fleet') {
        const suffix = p.port === undefined ? '' : `:${p.port}`;
        out.push(...(await this.kube().list(p.selector)).map((name) => `node://${name}${suffix}`));
      } else if (a === 'pve-pool:') throw new AddressError('pve-pool: needs a pool name');
      else if (a === 'node-selector:')
        throw new AddressError('node-selector: needs a label selector (like node-role.kubernetes.io/worker or zone=a)');
      else out.push(a);
    }
    return [...new Set(out)];
  }

  /** Throws AddressError unless `address` has one of the known forms (checked before any VM is contacted). */
  static check(address: string): void {
    if (parseAddress(address)) return;
    throw new AddressError(`"${address}" is not a VM address; use one of: ${describeForms(false)} (fleet: ${describeForms(true)})`);
  }

  /** Whether an argument is a fleet pattern rather than one VM. */
  static isPattern(address: string): boolean {
    return parseAddress(address)?.form.fleet === true;
  }

  close(): void {
    for (const c of this.open) c.close();
    this.open.clear();
    this.pveHttp?.close();
    this.kubeNodes?.close();
  }
}
