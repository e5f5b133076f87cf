// VM addresses, one URI form per connector (registered by scheme, as MQTT.js does transports):
//   unix:/path/to/qga.sock     a QEMU chardev socket or an agent on a unix socket
//   libvirt:DOMAIN             through virsh (--connect URI); DOMAIN may be a glob in fleet mode
//   pve://NODE/VMID            the Proxmox VE API (--pve-url, token from PVE_TOKEN); VMID may be * in fleet mode
//   pve-pool:POOL              fleet mode: every running VM of a Proxmox pool
//   tls://HOST:PORT            guestlink's management endpoint (mutual TLS, credentials from the kubeconfig)
//   node://NODE[:PORT]         the same, at the address of the Kubernetes Node NODE (port 10280 by default)
//   node://*[:PORT], node-selector:SELECTOR[:PORT]   fleet mode: every Node, or those a label selector picks
import type { AgentConnection } from '../connection.js';
import { AddressError } from '../errors.js';
import { type KubeAccess, KubeNodes } from './kube-nodes.js';
import { isGlob, LibvirtConnection, type LibvirtOptions, listDomains } from './libvirt.js';
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

/** The address forms, for help texts and completion. */
export const ADDRESS_FORMS = ['unix:/path/to/qga.sock', 'libvirt:DOMAIN', 'pve://NODE/VMID', 'tls://HOST:PORT', 'node://NODE'] as const;

const TLS_ADDRESS = /^tls:\/\/(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9.-]+):(\d{1,5})$/;
const NODE_ADDRESS = /^node:\/\/([a-z0-9]([-a-z0-9.]*[a-z0-9])?)(?::(\d{1,5}))?$/;
const NODE_FLEET = /^(?:node:\/\/(\*)|node-selector:(.*?))(?::(\d{1,5}))?$/;

/** Opens connections and owns what they share (one HTTPS agent per Proxmox URL); close() ends all. */
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
    if (address.startsWith('unix:')) {
      const p = address.slice(5);
      if (!p) throw new AddressError(`"${address}": unix: needs a socket path (unix:/run/qga.sock)`);
      return new UnixConnection(address, p);
    }
    if (address.startsWith('libvirt:')) {
      const dom = address.slice(8).replace(/^\/\//, '');
      if (!dom || isGlob(dom)) throw new AddressError(`"${address}": libvirt: needs a domain name (globs only in fleet mode)`);
      return new LibvirtConnection(address, dom, this.opts.libvirt ?? {});
    }
    const pve = /^pve:\/\/([^/]+)\/(\d+)$/.exec(address);
    if (pve) return new PveConnection(address, pve[1] as string, Number(pve[2]), this.pve());
    const t = TLS_ADDRESS.exec(address);
    if (t) {
      const host = (t[1] as string).replace(/^\[(.*)\]$/, '$1');
      const target = { host, port: Number(t[2]), servername: host };
      const kube = this.kube();
      return new TlsConnection(
        address,
        host,
        async () => target,
        () => kube.credentials(),
      );
    }
    const n = NODE_ADDRESS.exec(address);
    if (n) {
      const [name, port] = [n[1] as string, n[3] ? Number(n[3]) : undefined];
      const kube = this.kube();
      return new TlsConnection(
        address,
        name,
        () => kube.target(name, port),
        () => kube.credentials(),
      );
    }
    throw new AddressError(`"${address}" is not a VM address; use one of: ${ADDRESS_FORMS.join(', ')}`);
  }

  /**
   * Expands fleet patterns into single addresses: libvirt:GLOB (running domains), pve://NODE/* (running
   * VMs on a node), pve-pool:POOL; other addresses pass through unchanged.
   */
  async expand(addresses: readonly string[]): Promise<string[]> {
    const out: string[] = [];
    for (const a of addresses) {
      if (a.startsWith('libvirt:') && isGlob(a.slice(8))) {
        const names = await listDomains(this.opts.libvirt ?? {}, a.slice(8));
        out.push(...names.map((n) => `libvirt:${n}`));
      } else if (/^pve:\/\/[^/]+\/\*$/.test(a)) {
        const node = a.slice(6, -2);
        out.push(...(await listNodeVms(this.pve(), node)).map((id) => `pve://${node}/${id}`));
      } else if (NODE_FLEET.test(a)) {
        // node://*[:PORT] or node-selector:SELECTOR[:PORT] (label values cannot hold ':', so a trailing :PORT is unambiguous).
        const [, all, selector, port] = NODE_FLEET.exec(a) as RegExpExecArray;
        if (!all && !selector)
          throw new AddressError('node-selector: needs a label selector (like node-role.kubernetes.io/worker or zone=a)');
        out.push(...(await this.kube().list(selector)).map((name) => `node://${name}${port ? `:${port}` : ''}`));
      } else if (a.startsWith('pve-pool:')) {
        const pool = a.slice(9);
        if (!pool) throw new AddressError('pve-pool: needs a pool name');
        out.push(...(await listPoolVms(this.pve(), pool)).map((m) => `pve://${m.node}/${m.vmid}`));
      } else out.push(a);
    }
    return [...new Set(out)];
  }

  /** Throws AddressError unless `address` has one of the known forms (checked before any VM is contacted). */
  static check(address: string): void {
    if (Connector.isPattern(address)) return;
    if (/^unix:./.test(address) || /^libvirt:(\/\/)?[^*?[]+$/.test(address) || /^pve:\/\/[^/]+\/\d+$/.test(address)) return;
    if (TLS_ADDRESS.test(address) || NODE_ADDRESS.test(address)) return;
    throw new AddressError(
      `"${address}" is not a VM address; use one of: ${ADDRESS_FORMS.join(', ')} (fleet: libvirt:GLOB, pve://NODE/*, pve-pool:POOL, node://*, node-selector:SELECTOR)`,
    );
  }

  /** Whether an argument is a fleet pattern rather than one VM. */
  static isPattern(address: string): boolean {
    return (
      (address.startsWith('libvirt:') && isGlob(address.slice(8))) ||
      /^pve:\/\/[^/]+\/\*$/.test(address) ||
      address.startsWith('pve-pool:') ||
      NODE_FLEET.test(address)
    );
  }

  close(): void {
    for (const c of this.open) c.close();
    this.open.clear();
    this.pveHttp?.close();
    this.kubeNodes?.close();
  }
}
