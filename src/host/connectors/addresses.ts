// The VM address forms, in one table: the connector parser, the CLI's --help and its shell completion
// all derive from it, so a form is written once.

/** What an address names once parsed. */
export type ParsedAddress =
  | { kind: 'unix'; path: string }
  | { kind: 'libvirt'; domain: string }
  | { kind: 'pve'; node: string; vmid: number }
  | { kind: 'libvirt-glob'; glob: string }
  | { kind: 'pve-node'; node: string }
  | { kind: 'pve-pool'; pool: string };

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

const match = (re: RegExp, address: string) => re.exec(address) ?? undefined;
/** Glob characters make a libvirt name a pattern (matched by libvirt.ts globToRegExp). */
const GLOB = /[*?[]/;

export const ADDRESS_FORMS: readonly AddressForm[] = [
  {
    scheme: 'unix:',
    form: 'unix:/path/to/qga.sock',
    fleet: false,
    help: 'a QEMU chardev socket (or guestlink-agent -m unix-listen)',
    parse: (a) => {
      const m = match(/^unix:(.+)$/s, a);
      return m ? { kind: 'unix', path: m[1] as string } : undefined;
    },
  },
  {
    scheme: 'libvirt:',
    form: 'libvirt:DOMAIN',
    fleet: false,
    help: 'through virsh qemu-agent-command (--connect URI)',
    parse: (a) => {
      const m = match(/^libvirt:(?:\/\/)?(.+)$/s, a);
      return m && !GLOB.test(m[1] as string) ? { kind: 'libvirt', domain: m[1] as string } : undefined;
    },
  },
  {
    scheme: 'pve://',
    form: 'pve://NODE/VMID',
    fleet: false,
    help: 'the Proxmox VE API (--pve-url, token in PVE_TOKEN=USER@REALM!TOKENID=SECRET)',
    parse: (a) => {
      const m = match(/^pve:\/\/([^/]+)\/(\d+)$/, a);
      return m ? { kind: 'pve', node: m[1] as string, vmid: Number(m[2]) } : undefined;
    },
  },
  {
    scheme: 'libvirt:',
    form: 'libvirt:GLOB',
    fleet: true,
    help: 'running libvirt domains matching *, ? and [...]',
    parse: (a) => {
      const m = match(/^libvirt:(?:\/\/)?(.+)$/s, a);
      return m && GLOB.test(m[1] as string) ? { kind: 'libvirt-glob', glob: m[1] as string } : undefined;
    },
  },
  {
    scheme: 'pve://',
    form: 'pve://NODE/*',
    fleet: true,
    help: 'running VMs of a Proxmox VE node',
    parse: (a) => {
      const m = match(/^pve:\/\/([^/]+)\/\*$/, a);
      return m ? { kind: 'pve-node', node: m[1] as string } : undefined;
    },
  },
  {
    scheme: 'pve-pool:',
    form: 'pve-pool:POOL',
    fleet: true,
    help: 'running VMs of a Proxmox VE pool',
    parse: (a) => {
      const m = match(/^pve-pool:(.+)$/s, a);
      return m ? { kind: 'pve-pool', pool: m[1] as string } : undefined;
    },
  },
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
