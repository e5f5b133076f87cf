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

/** Glob characters make a libvirt name a pattern (matched by libvirt.ts globToRegExp). */
const GLOB = /[*?[]/;

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
  form('pve-pool:', 'pve-pool:POOL', true, 'running VMs of a Proxmox VE pool', /^pve-pool:(.+)$/s, (m) => ({
    kind: 'pve-pool',
    pool: m[1] as string,
  })),
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
