// The VM address forms, in one table: the connector parser, the CLI's --help and its shell completion
// all derive from it, so a form is written once.

/** What an address names once parsed. */
export type ParsedAddress =
  | { kind: 'unix'; path: string }
  | { kind: 'libvirt'; domain: string }
  | { kind: 'pve'; node: string; vmid: number }
  | { kind: 'libvirt-glob'; glob: string }
  | { kind: 'pve-node'; node: string }
  | { kind: 'pve-pool'; pool: string }
  | { kind: 'tls'; host: string; port: number }
  | { kind: 'node'; name: string; port?: number }
  | { kind: 'node-fleet'; selector?: string; port?: number };

export interface AddressForm {
  /** The prefix that selects the connector (also what completion offers). */
  scheme: string;
  /** How the form is written in help texts. */
  form: string;
  /** One VM, or a fleet pattern (several VMs). */
  fleet: boolean;
  /** One line for --help. */
  help: string;
  /** The address as this form, or undefined when it is not this form. */
  parse(address: string): ParsedAddress | undefined;
}

/** Glob characters make a libvirt name a pattern (matched by libvirt.ts globToRegExp). */
const GLOB = /[*?[]/;

/** A TCP port written in an address: 1-65535. */
const port = (text: string | undefined) => {
  if (text === undefined) return undefined;
  const n = Number(text);
  return n >= 1 && n <= 65535 ? n : Number.NaN;
};

/** One form: the address matches `re`, and `build` turns the match into the parsed address (or refuses it). */
function form(
  scheme: string,
  written: string,
  fleet: boolean,
  help: string,
  re: RegExp,
  build: (m: string[]) => ParsedAddress | undefined,
): AddressForm {
  const parse = (address: string) => {
    const m = re.exec(address);
    return m ? build([...m]) : undefined;
  };
  return { scheme, form: written, fleet, help, parse };
}

export const ADDRESS_FORMS: readonly AddressForm[] = [
  form('unix:', 'unix:/path/to/qga.sock', false, 'a QEMU chardev socket (or guestlink-agent -m unix-listen)', /^unix:(.+)$/s, (m) => ({
    kind: 'unix',
    path: m[1] as string,
  })),
  form('libvirt:', 'libvirt:DOMAIN', false, 'through virsh qemu-agent-command (--connect URI)', /^libvirt:(?:\/\/)?(.+)$/s, (m) =>
    GLOB.test(m[1] as string) ? undefined : { kind: 'libvirt', domain: m[1] as string },
  ),
  form(
    'pve://',
    'pve://NODE/VMID',
    false,
    'the Proxmox VE API (--pve-url, token in PVE_TOKEN=USER@REALM!TOKENID=SECRET)',
    /^pve:\/\/([^/]+)\/(\d+)$/,
    (m) => ({ kind: 'pve', node: m[1] as string, vmid: Number(m[2]) }),
  ),
  form('libvirt:', 'libvirt:GLOB', true, 'running libvirt domains matching *, ? and [...]', /^libvirt:(?:\/\/)?(.+)$/s, (m) =>
    GLOB.test(m[1] as string) ? { kind: 'libvirt-glob', glob: m[1] as string } : undefined,
  ),
  form('pve://', 'pve://NODE/*', true, 'running VMs of a Proxmox VE node', /^pve:\/\/([^/]+)\/\*$/, (m) => ({
    kind: 'pve-node',
    node: m[1] as string,
  })),
  form(
    'tls://',
    'tls://HOST:PORT',
    false,
    "a guestlink management endpoint (mutual TLS with the kubeconfig's client certificate)",
    /^tls:\/\/(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9.-]+):(\d{1,5})$/,
    (m) => {
      const p = port(m[2]);
      return p === undefined || Number.isNaN(p) ? undefined : { kind: 'tls', host: (m[1] as string).replace(/^\[(.*)\]$/, '$1'), port: p };
    },
  ),
  form(
    'node://',
    'node://NODE[:PORT]',
    false,
    "the same at a Kubernetes Node's address (port 10280 by default; --kubeconfig, --context)",
    /^node:\/\/([a-z0-9]([-a-z0-9.]*[a-z0-9])?)(?::(\d{1,5}))?$/,
    (m) => {
      const p = port(m[3]);
      if (Number.isNaN(p)) return undefined;
      return p === undefined ? { kind: 'node', name: m[1] as string } : { kind: 'node', name: m[1] as string, port: p };
    },
  ),
  form('pve-pool:', 'pve-pool:POOL', true, 'running VMs of a Proxmox VE pool', /^pve-pool:(.+)$/s, (m) => ({
    kind: 'pve-pool',
    pool: m[1] as string,
  })),
  // Label values cannot hold ':', so a trailing :PORT is unambiguous.
  form('node://', 'node://*[:PORT]', true, 'every Kubernetes Node', /^node:\/\/\*(?::(\d{1,5}))?$/, (m) => {
    const p = port(m[1]);
    if (Number.isNaN(p)) return undefined;
    return p === undefined ? { kind: 'node-fleet' } : { kind: 'node-fleet', port: p };
  }),
  form(
    'node-selector:',
    'node-selector:SELECTOR[:PORT]',
    true,
    'the Kubernetes Nodes a label selector picks',
    /^node-selector:(.+?)(?::(\d{1,5}))?$/s,
    (m) => {
      const p = port(m[2]);
      if (Number.isNaN(p)) return undefined;
      return { kind: 'node-fleet', selector: m[1] as string, ...(p === undefined ? {} : { port: p }) };
    },
  ),
];

/** The address parsed by the first form that takes it, or undefined. */
export function parseAddress(address: string): { form: AddressForm; parsed: ParsedAddress } | undefined {
  for (const form of ADDRESS_FORMS) {
    const parsed = form.parse(address);
    if (parsed) return { form, parsed };
  }
  return undefined;
}

/** The distinct scheme prefixes, in table order (completion offers them). */
export const ADDRESS_SCHEMES: readonly string[] = [...new Set(ADDRESS_FORMS.map((f) => f.scheme))];

/** "unix:/path/to/qga.sock, libvirt:DOMAIN, ..." for error messages. */
export function describeForms(fleet: boolean): string {
  return ADDRESS_FORMS.filter((f) => f.fleet === fleet)
    .map((f) => f.form)
    .join(', ');
}
